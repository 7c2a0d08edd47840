"""What Processing jobs and quality-check jobs share: staging inputs, workspace, outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.context import StepContext, StepFailed
from batchops.localcloud.executor.storage import download, upload_dir


def stage_inputs(ctx: StepContext, args: dict[str, Any]) -> None:
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


def prepare_workspace(ctx: StepContext, args: dict[str, Any]) -> None:
    for path in ("opt/ml/processing", "opt/ml/output", "opt/ml/config"):
        (ctx.workspace / path).mkdir(parents=True, exist_ok=True)
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
