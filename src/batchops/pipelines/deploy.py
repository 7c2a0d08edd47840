"""Create/update pipelines from built definitions, start them, and follow executions.

Everything here is boto3 against the target account: the SDK was only needed to *build*
the JSON (see :mod:`batchops.pipelines.build`). ``upsert`` is idempotent — assets are
uploaded only when missing (one listing finds them) or different, and ``UpdatePipeline``
runs only when the stored definition differs — so CI can run it on every merge. It
resolves the account's KMS key ARN (:mod:`batchops.kms`) for the asset puts and stamps it
into the ``KmsKeyArn`` parameter.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from batchops.aws import Clients, error_message
from batchops.config import Settings
from batchops.errors import CloudError, NotFoundError, PipelineError
from batchops.kms import key_arn
from batchops.pipelines.build import KMS_KEY_PARAMETER, Built, stamp

TERMINAL = ("Succeeded", "Failed", "Stopped")


@dataclass(frozen=True)
class Upserted:
    pipeline_name: str
    pipeline_arn: str
    action: str  #: created, updated, unchanged, recreated
    assets_uploaded: int


def _stored_sizes(clients: Clients, settings: Settings, keys: list[str]) -> dict[str, int]:
    """The objects already under the assets' common folder, with their sizes (one listing
    instead of one ``HeadObject`` per asset: most assets of a new version are new keys)."""
    from botocore.exceptions import ClientError

    folder = keys[0][: keys[0].rfind("/") + 1]
    for key in keys:
        while not key.startswith(folder):  # up one folder ("a/b/" -> "a/" -> "")
            folder = folder[: folder.rstrip("/").rfind("/") + 1]
    sizes: dict[str, int] = {}
    try:
        pages = clients.client("s3").get_paginator("list_objects_v2")
        for page in pages.paginate(Bucket=settings.bucket_name, Prefix=folder):
            sizes.update({o["Key"]: int(o["Size"]) for o in page.get("Contents", [])})
    except ClientError as exc:
        raise PipelineError(
            f"cannot list s3://{settings.bucket_name}/{folder}: {error_message(exc)}"
        ) from None
    return sizes


def _upload_assets(clients: Clients, settings: Settings, built: Built, kms_key_arn: str) -> int:
    """Put each asset that is missing or differs (same size: its ``batchops-md5`` metadata
    tells); returns how many were put."""
    from botocore.exceptions import ClientError

    s3 = clients.client("s3")
    stored = _stored_sizes(clients, settings, sorted(built.assets)) if built.assets else {}
    uploaded = 0
    for key, path in sorted(built.assets.items()):
        # the build recorded each body's MD5; an older build folder is hashed here
        digest = (
            built.asset_md5.get(key)
            or hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
        )
        if stored.get(key) == path.stat().st_size:
            try:
                head = s3.head_object(Bucket=settings.bucket_name, Key=key)
                if head.get("Metadata", {}).get("batchops-md5") == digest:
                    continue
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
                    raise PipelineError(
                        f"cannot read s3://{settings.bucket_name}/{key}: {error_message(exc)}"
                    ) from None
        s3.put_object(
            Bucket=settings.bucket_name,
            Key=key,
            Body=path.read_bytes(),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=kms_key_arn,
            Metadata={"batchops-md5": digest},
        )
        uploaded += 1
    return uploaded


def upsert(
    clients: Clients, settings: Settings, built: Built, *, recreate: bool | None = None
) -> Upserted:
    from botocore.exceptions import ClientError

    sm = clients.client("sagemaker")
    name = built.pipeline_name
    recreate = settings.recreate_pipelines if recreate is None else recreate
    kms_key_arn = key_arn(clients, settings)
    uploaded = _upload_assets(clients, settings, built, kms_key_arn)
    # the account's key ARN is a parameter (DESIGN §8): the same built bytes elsewhere
    definition = stamp(copy.deepcopy(built.definition), {KMS_KEY_PARAMETER: kms_key_arn})
    body = json.dumps(definition, sort_keys=True)
    description = f"batchops {built.spec.key}: {built.spec.description}"[:3072]
    try:
        current = sm.describe_pipeline(PipelineName=name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("ResourceNotFound", "ValidationException"):
            raise PipelineError(f"DescribePipeline {name}: {error_message(exc)}") from None
        current = None
    try:
        if current is not None and recreate:
            sm.delete_pipeline(PipelineName=name, ClientRequestToken=f"recreate-{uuid.uuid4().hex}")
            current, action = None, "recreated"
        else:
            action = "created"
        if current is None:
            arn = sm.create_pipeline(
                PipelineName=name,
                PipelineDefinition=body,
                PipelineDescription=description,
                RoleArn=settings.role_arn,
                Tags=[{"Key": "batchops:project", "Value": built.spec.key}],
            )["PipelineArn"]
            return Upserted(name, arn, action, uploaded)
        stored = json.loads(current.get("PipelineDefinition") or "{}")
        if json.dumps(stored, sort_keys=True) == body:
            return Upserted(name, current["PipelineArn"], "unchanged", uploaded)
        arn = sm.update_pipeline(
            PipelineName=name,
            PipelineDefinition=body,
            PipelineDescription=description,
            RoleArn=settings.role_arn,
        )["PipelineArn"]
        return Upserted(name, arn, "updated", uploaded)
    except ClientError as exc:
        raise PipelineError(f"upsert of pipeline {name}: {error_message(exc)}") from None


def start(
    clients: Clients,
    pipeline_name: str,
    parameters: dict[str, str],
    *,
    display_name: str | None = None,
    token: str | None = None,
) -> str:
    from botocore.exceptions import ClientError

    sm = clients.client("sagemaker")
    request: dict[str, Any] = {
        "PipelineName": pipeline_name,
        "PipelineParameters": [{"Name": k, "Value": str(v)} for k, v in parameters.items()],
    }
    if display_name:
        request["PipelineExecutionDisplayName"] = display_name[:82]
    if token:
        request["ClientRequestToken"] = token
    try:
        return str(sm.start_pipeline_execution(**request)["PipelineExecutionArn"])
    except ClientError as exc:
        raise PipelineError(f"cannot start {pipeline_name}: {error_message(exc)}") from None


def describe(clients: Clients, arn: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return dict(
            clients.client("sagemaker").describe_pipeline_execution(PipelineExecutionArn=arn)
        )
    except ClientError as exc:
        raise PipelineError(f"pipeline execution {arn}: {error_message(exc)}") from None


def steps(clients: Clients, arn: str) -> list[dict[str, Any]]:
    sm = clients.client("sagemaker")
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
    while True:
        page = sm.list_pipeline_execution_steps(**kwargs)
        found.extend(page.get("PipelineExecutionSteps", []))
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def wait(
    clients: Clients,
    arn: str,
    *,
    timeout_s: float = 3600,
    on_step: Callable[[dict[str, Any]], None] | None = None,
    max_delay_s: float = 5.0,
) -> dict[str, Any]:
    """Poll until the execution ends; report each step once it reaches a final status.

    The delay between polls grows from 0.2 s to ``max_delay_s`` (5 s suits AWS, where
    steps take minutes; a local cloud answers in milliseconds, so callers there pass less).
    """
    from botocore.exceptions import BotoCoreError

    deadline = time.monotonic() + timeout_s
    reported: set[tuple[str, str]] = set()
    delay = 0.2
    while True:
        try:
            described = _poll(clients, arn, on_step, reported)
        except BotoCoreError as exc:
            where = clients.endpoint or "AWS"
            hint = (
                "; if the local cloud stopped, start it again on the same --state-dir (the run "
                "is then marked Failed) and see `batchops pipelines status "
                f"{arn}`"
                if clients.endpoint
                else ""
            )
            raise CloudError(
                f"lost {where} while waiting for {arn}: {type(exc).__name__}{hint}"
            ) from None
        if described["PipelineExecutionStatus"] in TERMINAL:
            return described
        if time.monotonic() > deadline:
            raise PipelineError(
                f"{arn} still {described['PipelineExecutionStatus']} after {timeout_s:.0f}s"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, max_delay_s)


def _poll(
    clients: Clients,
    arn: str,
    on_step: Callable[[dict[str, Any]], None] | None,
    reported: set[tuple[str, str]],
) -> dict[str, Any]:
    """One look at the execution; reports each step that reached a final status once."""
    described = describe(clients, arn)
    if on_step is not None:
        for step in sorted(steps(clients, arn), key=lambda s: str(s.get("StartTime"))):
            marker = (step["StepName"], step.get("StepStatus", ""))
            if marker[1] not in ("Executing", "Starting") and marker not in reported:
                reported.add(marker)
                on_step(step)
    return described


def latest_execution(clients: Clients, pipeline_name: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        listed = clients.client("sagemaker").list_pipeline_executions(
            PipelineName=pipeline_name,
            SortBy="CreationTime",
            SortOrder="Descending",
            MaxResults=1,
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
            raise NotFoundError(
                f"pipeline {pipeline_name} does not exist in this account yet (create it with "
                "`batchops pipelines upsert --project ... --env ...`)"
            ) from None
        raise PipelineError(
            f"cannot list executions of {pipeline_name}: {error_message(exc)}"
        ) from None
    summaries = listed.get("PipelineExecutionSummaries", [])
    return str(summaries[0]["PipelineExecutionArn"]) if summaries else None
