"""The one builder of the EventBridge events AWS services send (their envelope and details).

Every producer in the local cloud — SageMaker pipeline executions and steps, the model
registry, S3 — builds its events here, so the shapes (``detail-type``, ``source``,
``resources``, time formats) are written once, as AWS documents them (see
``../shared/reference/eventbridge-events.md``).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

PIPELINE_STEP_STATUS = "SageMaker Model Building Pipeline Execution Step Status Change"
PIPELINE_EXECUTION_STATUS = "SageMaker Model Building Pipeline Execution Status Change"
MODEL_PACKAGE_STATE = "SageMaker Model Package State Change"
S3_OBJECT_CREATED = "Object Created"
_S3_REASONS = {"Put": "PutObject", "Post": "POST Object", "Copy": "CopyObject"}


def iso(moment: datetime | None = None) -> str:
    """EventBridge's time format (UTC, seconds)."""
    return (moment or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_ms(value: Any) -> Any:
    """A datetime or ISO-8601 string as epoch milliseconds (other values unchanged)."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return value
    return value


def aws_event(
    *,
    detail_type: str,
    source: str,
    account: str,
    region: str,
    resources: list[str],
    detail: dict[str, Any],
    time: datetime | None = None,
) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": iso(time),
        "region": region,
        "resources": resources,
        "detail": detail,
    }


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    return value


def pipeline_execution_status_change(
    *,
    account: str,
    region: str,
    pipeline_arn: str,
    execution_arn: str,
    display_name: str,
    status: str,
    previous: str | None,
    started: datetime | None,
    ended: datetime | None,
    description: str,
    failure_reason: str | None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "pipelineArn": pipeline_arn,
        "pipelineExecutionArn": execution_arn,
        "pipelineExecutionDisplayName": display_name,
        "currentPipelineExecutionStatus": status,
        "previousPipelineExecutionStatus": previous or "",
        "executionStartTime": iso(started) if started else None,
        "pipelineExecutionDescription": description,
    }
    if ended:
        detail["executionEndTime"] = iso(ended)
    if failure_reason:
        detail["failureReason"] = failure_reason
    return aws_event(
        detail_type=PIPELINE_EXECUTION_STATUS,
        source="aws.sagemaker",
        account=account,
        region=region,
        resources=[pipeline_arn, execution_arn],
        detail=detail,
    )


def pipeline_step_status_change(
    *,
    account: str,
    region: str,
    pipeline_arn: str,
    execution_arn: str,
    step_name: str,
    step_type: str,
    status: str,
    previous: str | None,
    started: datetime | None,
    ended: datetime | None,
    metadata: dict[str, Any],
    failure_reason: str | None,
) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "pipelineArn": pipeline_arn,
        "pipelineExecutionArn": execution_arn,
        "stepName": step_name,
        "stepType": step_type,
        "currentStepStatus": status,
        "previousStepStatus": previous or "",
        "stepStartTime": iso(started) if started else None,
        "metadata": _camel(metadata),
    }
    if ended:
        detail["stepEndTime"] = iso(ended)
    if failure_reason:
        detail["failureReason"] = failure_reason
    return aws_event(
        detail_type=PIPELINE_STEP_STATUS,
        source="aws.sagemaker",
        account=account,
        region=region,
        resources=[pipeline_arn, execution_arn],
        detail=detail,
    )


def model_package_state_change(package: Any, account: str, region: str) -> dict[str, Any]:
    """From a moto ``FakeModelPackage`` (its API response object is the event's detail)."""
    detail = dict(package.gen_response_object())
    for key in ("CreationTime", "LastModifiedTime"):
        if key in detail:
            detail[key] = epoch_ms(detail[key])
    detail.setdefault("ModelPackageGroupName", package.model_package_group_name)
    detail.setdefault("ModelPackageName", package.model_package_name)
    return aws_event(
        detail_type=MODEL_PACKAGE_STATE,
        source="aws.sagemaker",
        account=account,
        region=region,
        resources=[package.arn],
        detail=json.loads(json.dumps(detail, default=str)),
    )


def s3_object_created(
    *, account: str, bucket: Any, key: Any, event_name: str
) -> dict[str, Any] | None:
    """What S3 sends to EventBridge for moto's ``s3:ObjectCreated:*`` notification names."""
    if "ObjectCreated" not in event_name:
        return None
    kind = event_name.rsplit(":", 1)[-1]
    return aws_event(
        detail_type=S3_OBJECT_CREATED,
        source="aws.s3",
        account=account,
        region=bucket.region_name,
        resources=[f"arn:aws:s3:::{bucket.name}"],
        detail={
            "version": "0",
            "bucket": {"name": bucket.name},
            "object": {
                "key": key.name,
                "size": key.size,
                "etag": key.etag.replace('"', ""),
                **({"version-id": key.version_id} if key.version_id else {}),
                "sequencer": f"{int(datetime.now(UTC).timestamp() * 1e6):016X}",
            },
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "source-ip-address": "127.0.0.1",
            "reason": _S3_REASONS.get(kind, kind),
        },
    )
