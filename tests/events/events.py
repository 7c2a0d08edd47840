"""Realistic EventBridge events (AWS's documented shapes) for the event tests."""

from __future__ import annotations

import uuid
from typing import Any

REGION = "us-east-1"
DS, STAGING, PRODUCTION = "111111111111", "222222222222", "333333333333"
STEP_EVENT = "SageMaker Model Building Pipeline Execution Step Status Change"
EXECUTION_EVENT = "SageMaker Model Building Pipeline Execution Status Change"


def _base(source: str, detail_type: str, account: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": "2026-01-05T10:00:00Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


def pipeline_arn(account: str, name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{account}:pipeline/{name}"


def model_package(
    status: str = "Approved", group: str = "batchops-abalone", version: int = 3, account: str = DS
) -> dict[str, Any]:
    arn = f"arn:aws:sagemaker:{REGION}:{account}:model-package/{group}/{version}"
    event = _base(
        "aws.sagemaker",
        "SageMaker Model Package State Change",
        account,
        {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": arn,
            "ModelPackageName": f"{group}-{version}",
            "CreationTime": 1767607200000,
            "ModelApprovalStatus": status,
            "ModelPackageStatus": "Completed",
        },
    )
    event["resources"] = [arn]
    return event


def step(
    step_name: str,
    status: str,
    *,
    account: str = PRODUCTION,
    pipeline: str = "batchops-inference",
    execution: str | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    arn = pipeline_arn(account, pipeline)
    detail: dict[str, Any] = {
        "pipelineArn": arn,
        "pipelineExecutionArn": execution or f"{arn}/execution/{uuid.uuid4().hex[:12]}",
        "stepName": step_name,
        "stepType": "Processing",
        "currentStepStatus": status,
        "previousStepStatus": "Executing",
        "stepStartTime": "2026-01-05T09:59:00Z",
        "metadata": {},
    }
    if reason:
        detail["failureReason"] = reason
    event = _base("aws.sagemaker", STEP_EVENT, account, detail)
    event["resources"] = [arn, detail["pipelineExecutionArn"]]
    return event


def execution(
    status: str, *, account: str = DS, pipeline: str = "batchops-training"
) -> dict[str, Any]:
    arn = pipeline_arn(account, pipeline)
    return _base(
        "aws.sagemaker",
        EXECUTION_EVENT,
        account,
        {
            "pipelineArn": arn,
            "pipelineExecutionArn": f"{arn}/execution/{uuid.uuid4().hex[:12]}",
            "pipelineExecutionDisplayName": "run",
            "currentPipelineExecutionStatus": status,
            "previousPipelineExecutionStatus": "Executing",
            "executionStartTime": "2026-01-05T09:00:00Z",
        },
    )


def object_created(bucket: str, key: str, account: str = STAGING) -> dict[str, Any]:
    event = _base(
        "aws.s3",
        "Object Created",
        account,
        {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": 1234, "etag": "abc"},
            "request-id": "R",
            "requester": account,
            "reason": "PutObject",
        },
    )
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    return event
