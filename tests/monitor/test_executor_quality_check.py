"""The local cloud's executor runs QualityCheck steps with this engine (issue 4 acceptance).

A training-style pipeline: ``Baseline`` (SkipCheck, RegisterNewBaseline) computes the
baseline of the training data; ``CheckBatch`` checks a drifted batch against the
baseline *read from Baseline's properties* (``CalculatedBaselineStatistics/Constraints``),
as a downstream step of a SageMaker pipeline would.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from batchops.aws import clients_for
from batchops.config import load_settings

from .conftest import inference_batch

pytestmark = [pytest.mark.localcloud, pytest.mark.slow]
ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"


def _quality_step(name: str, data_uri: str, out_uri: str, role: str, **fields: Any) -> dict:
    local_in = "/opt/ml/processing/input/baseline_dataset_input"
    return {
        "Name": name,
        "Type": "QualityCheck",
        "Arguments": {
            "ProcessingResources": {
                "ClusterConfig": {
                    "InstanceType": "ml.m5.xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 30,
                }
            },
            "AppSpecification": {"ImageUri": ANALYZER},
            "RoleArn": role,
            "Environment": {
                "dataset_format": '{"csv": {"header": false, "output_columns_position": "START"}}',
                "dataset_source": local_in,
                "output_path": "/opt/ml/processing/output",
                "publish_cloudwatch_metrics": "Disabled",
            },
            "ProcessingInputs": [
                {
                    "InputName": "baseline_dataset_input",
                    "AppManaged": False,
                    "S3Input": {
                        "S3Uri": data_uri,
                        "LocalPath": local_in,
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                        "S3DataDistributionType": "FullyReplicated",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "quality_check_output",
                        "AppManaged": False,
                        "S3Output": {
                            "S3Uri": out_uri,
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
        },
        "CheckType": "DATA_QUALITY",
        **fields,
    }


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from batchops.localcloud.runtime import start_local_cloud

    started = start_local_cloud(state_dir=tmp_path_factory.mktemp("cloud"), options={})
    try:
        yield started
    finally:
        started.stop()


def _wait(sm: Any, arn: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            return described
        time.sleep(0.2)
    raise AssertionError(f"{arn} still running after {timeout}s")


def test_quality_check_baseline_feeds_a_downstream_check(
    cloud: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHOPS_ENDPOINT", cloud.endpoint)
    settings = load_settings("data-science")
    clients = clients_for(settings, cloud.endpoint)
    s3, sm = clients.client("s3"), clients.client("sagemaker")
    bucket, run = settings.bucket_name, uuid.uuid4().hex[:8]
    train = inference_batch(tmp_path / "train", seed=31, rows=2000)
    batch = inference_batch(tmp_path / "batch", seed=32, rows=1000, drift="height*1.6")
    for key, path in ((f"qc-{run}/train/data.csv", train), (f"qc-{run}/batch/data.csv", batch)):
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    prefix = f"s3://{bucket}/qc-{run}"
    role = settings.role_arn
    definition = {
        "Version": "2020-12-01",
        "Parameters": [{"Name": "FailOnViolation", "Type": "Boolean", "DefaultValue": False}],
        "Steps": [
            _quality_step(
                "Baseline",
                f"{prefix}/train",
                f"{prefix}/baseline",
                role,
                SkipCheck=True,
                RegisterNewBaseline=True,
                FailOnViolation=False,
            ),
            _quality_step(
                "CheckBatch",
                f"{prefix}/batch",
                f"{prefix}/check",
                role,
                SkipCheck=False,
                RegisterNewBaseline=False,
                FailOnViolation={"Get": "Parameters.FailOnViolation"},
                SuppliedBaselineStatistics={"Get": "Steps.Baseline.CalculatedBaselineStatistics"},
                SuppliedBaselineConstraints={"Get": "Steps.Baseline.CalculatedBaselineConstraints"},
            ),
        ],
    }
    name = f"qc-{run}"
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=role)

    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    meta = {s["StepName"]: s["Metadata"]["QualityCheck"] for s in steps}
    assert (
        meta["CheckBatch"]["BaselineUsedForDriftCheckStatistics"]
        == (meta["Baseline"]["CalculatedBaselineStatistics"])
    )
    stats = json.loads(
        s3.get_object(Bucket=bucket, Key=f"qc-{run}/baseline/statistics.json")["Body"].read()
    )
    assert stats["dataset"]["item_count"] == 2000 and len(stats["features"]) == 8
    report = json.loads(
        s3.get_object(Bucket=bucket, Key=f"qc-{run}/check/constraint_violations.json")[
            "Body"
        ].read()
    )
    assert [(v["feature_name"], v["constraint_check_type"]) for v in report["violations"]] == [
        ("_c3", "baseline_drift_check")
    ]

    strict = sm.start_pipeline_execution(
        PipelineName=name, PipelineParameters=[{"Name": "FailOnViolation", "Value": "true"}]
    )["PipelineExecutionArn"]
    described = _wait(sm, strict)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "baseline_drift_check(_c3)" in described["FailureReason"]
