"""What Processing jobs and quality-check jobs share: staging inputs, workspace, outputs;
and what every job with ``InstanceCount`` instances shares (Processing, Training, Tuning's
training jobs, Transform): the count's validation, one /opt/ml per instance, the queue."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.context import StepContext, StepFailed
from batchops.localcloud.executor.storage import download, upload_dir

SHARDED = "ShardedByS3Key"


def stage_inputs(
    ctx: StepContext, args: dict[str, Any], instance: tuple[int, int] = (0, 1)
) -> None:
    """Download the inputs into the workspace of instance ``instance`` = (index, count):
    ``ShardedByS3Key`` inputs give it its share of the objects, ``FullyReplicated`` (the
    default) all of them."""
    s3 = ctx.s3(args.get("RoleArn"))
    cache = ctx.options.get("input_cache_dir")
    for item in args.get("ProcessingInputs") or []:
        source = item.get("S3Input")
        if not source:
            raise StepFailed(
                f"ClientError: input {item.get('InputName')!r} is not an S3Input; the local "
                "cloud supports S3 inputs only"
            )
        local = ctx.container_path(source["LocalPath"])
        try:
            download(
                s3,
                source["S3Uri"],
                local,
                data_type=source.get("S3DataType", "S3Prefix"),
                cache=Path(cache) if cache else None,
                shard=instance
                if source.get("S3DataDistributionType") == "ShardedByS3Key"
                else None,
            )
        except PipelineError as exc:
            raise StepFailed(f"ClientError: input {item.get('InputName')!r}: {exc}") from None


def publish_outputs(ctx: StepContext, args: dict[str, Any], *, failed: bool = False) -> None:
    """Upload the job's outputs. ``EndOfJob`` outputs are uploaded "after the job completes"
    (API reference), so not for a failed job; ``Continuous`` ones are uploaded as they are
    written, so what the job wrote before failing is in S3 all the same."""
    s3 = ctx.s3(args.get("RoleArn"))
    config = args.get("ProcessingOutputConfig") or {}
    kms = config.get("KmsKeyId")
    for item in config.get("Outputs") or []:
        target = item.get("S3Output")
        if not target or (failed and target.get("S3UploadMode") != "Continuous"):
            continue
        upload_dir(s3, ctx.container_path(target["LocalPath"]), target["S3Uri"], kms_key=kms)


def prepare_workspace(
    ctx: StepContext, args: dict[str, Any], host: str = "algo-1", hosts: list[str] | None = None
) -> None:
    """The instance's /opt/ml: its folders, and the two files SageMaker Processing gives a
    container (``/opt/ml/config/resourceconfig.json``: ``current_host`` and ``hosts``;
    ``processingjobconfig.json``: the job's request)."""
    for path in ("opt/ml/processing", "opt/ml/output", "opt/ml/config"):
        (ctx.workspace / path).mkdir(parents=True, exist_ok=True)
    config = ctx.workspace / "opt/ml/config"
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": host, "hosts": hosts or [host]}), encoding="utf-8"
    )
    (config / "processingjobconfig.json").write_text(
        json.dumps(args, default=str), encoding="utf-8"
    )
    for item in (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []:
        if item.get("S3Output"):
            ctx.container_path(item["S3Output"]["LocalPath"]).mkdir(parents=True, exist_ok=True)


def job_properties(ctx: StepContext, args: dict[str, Any], job_name: str) -> dict[str, Any]:
    return {
        **args,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": ctx.arn("processing-job", job_name),
        "ProcessingJobStatus": "Completed",
    }


def instance_count(value: Any, field: str) -> int:
    """``InstanceCount`` as the API validates it (``field``: the member's path in the
    request, as AWS's ValidationException names it)."""
    try:
        count = int(1 if value is None else value)
    except (TypeError, ValueError):
        raise StepFailed(f"ValidationException: InstanceCount {value!r} is not a number") from None
    if count < 1:
        raise StepFailed(
            f"ValidationException: Value '{count}' at '{field}' failed to satisfy constraint: "
            "Member must have value greater than or equal to 1"
        )
    return count


def instance_limit(ctx: StepContext) -> int:
    """How many instances run at once on this machine (``max_parallel_instances``, default
    one per CPU); the others queue."""
    return max(1, int(ctx.options.get("max_parallel_instances") or os.cpu_count() or 1))


def hosts_of(count: int) -> list[str]:
    """The instances' names, ``algo-1``..``algo-N`` (sorted as SageMaker lists them)."""
    return [f"algo-{index + 1}" for index in range(count)]


def instances(ctx: StepContext, count: int) -> list[tuple[str, StepContext]]:
    """``(host, context)`` per instance: one instance keeps the step's workspace; with more,
    each gets its own /opt/ml and log under ``instances/<host>``."""
    if count == 1:
        return [("algo-1", ctx)]
    found = []
    for host in hosts_of(count):
        root = ctx.workspace / "instances" / host
        root.mkdir(parents=True, exist_ok=True)
        found.append((host, replace(ctx, workspace=root, log_path=root / "log.txt")))
    return found


def run_on_instances(
    ctx: StepContext, count: int, work: Callable[[int, str, StepContext], None]
) -> list[tuple[str, StepContext]]:
    """Run ``work(index, host, context)`` for every instance, as many at once as the local
    cloud allows (``max_parallel_instances``, default one per CPU); the others queue and
    start as earlier ones end. The first failure (in host order) is raised after all end."""
    hosts = instances(ctx, count)
    limit = instance_limit(ctx)
    if count > limit:
        ctx.log(
            f"{count} instances, {limit} at a time on this machine: the others queue "
            "(max_parallel_instances)"
        )
    if count == 1:
        work(0, *hosts[0])
        return hosts
    errors: list[BaseException | None] = [None] * count

    def one(index: int) -> None:
        try:
            work(index, *hosts[index])
        except BaseException as exc:  # reported after every instance ended
            errors[index] = exc

    with ThreadPoolExecutor(min(limit, count), thread_name_prefix="instance") as pool:
        list(pool.map(one, range(count)))
    for host, instance in hosts:  # the step's log: each instance's, in host order
        if instance.log_path.is_file():
            ctx.log(f"----- {host} -----")
            ctx.log(instance.log_path.read_text(encoding="utf-8", errors="replace"))
    for error in errors:
        if error is not None:
            raise error
    return hosts
