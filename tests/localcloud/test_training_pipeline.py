"""The SDK-built training pipeline on the local cloud: failures end where they should.

Built with the SageMaker SDK 3.x (model-build), upserted and started with boto3; the
executor runs Processing -> QualityCheck -> Training -> Processing (PropertyFile) ->
Condition (JsonGet) -> RegisterModel | Fail.
"""

from __future__ import annotations

import pytest

from batchops.config import load_settings
from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.pipelines import deploy as pipelines
from batchops.pipelines.build import build
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def training(cloud, tmp_path_factory):  # type: ignore[no-untyped-def]
    from batchops.aws import clients_for

    settings = load_settings("data-science")
    clients = clients_for(settings, cloud.endpoint)
    proj = project("model-build")
    pipelines.upsert(clients, settings, build(proj, proj.spec("training"), settings))
    data = generate(tmp_path_factory.mktemp("train"), rows=600, seed=4)
    return settings, clients, data.files[Layout.TRAINING]


def _run(clients, settings, key: str, body: bytes, **params: str):  # type: ignore[no-untyped-def]
    """Start the pipeline ourselves on ``key``; keys here never end in ``training-data.csv``,
    or the S3 rule of the shared local cloud would start a second run of its own."""
    clients.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=body)
    arn = pipelines.start(
        clients,
        settings.pipeline_train,
        {"InputBucket": settings.bucket_name, "InputKey": key, **params},
    )
    described = pipelines.wait(clients, arn, timeout_s=600)
    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    return described, steps


def _versions(clients, settings) -> int:  # type: ignore[no-untyped-def]
    listed = clients.client("sagemaker").list_model_packages(
        ModelPackageGroupName=settings.model_package_group_name
    )
    return len(listed["ModelPackageSummaryList"])


def test_an_mse_over_the_threshold_ends_in_the_fail_step_and_registers_nothing(training):  # type: ignore[no-untyped-def]
    settings, clients, path = training
    before = _versions(clients, settings)
    described, steps = _run(
        clients,
        settings,
        f"{settings.training_data_prefix}strict/rows.csv",
        path.read_bytes(),
        QualityThreshold="0.5",
    )
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"].startswith("Test mse ")
    assert described["FailureReason"].endswith("is above the threshold 0.5")
    assert steps["CheckTestQuality"]["Metadata"]["Condition"]["Outcome"] == "false"
    assert steps["FailOnTestQuality"]["StepStatus"] == "Failed"
    assert "RegisterModel" not in steps
    assert _versions(clients, settings) == before


def test_a_bad_training_file_fails_preprocess_naming_file_and_line(training):  # type: ignore[no-untyped-def]
    settings, clients, path = training
    lines = path.read_text().splitlines()
    lines[41] = lines[41].replace(",", ",x", 1)
    described, steps = _run(
        clients,
        settings,
        f"{settings.training_data_prefix}bad/rows.csv",
        ("\n".join(lines) + "\n").encode(),
    )
    assert described["PipelineExecutionStatus"] == "Failed"
    reason = steps["PreprocessData"]["FailureReason"]
    assert "rows.csv line 42 column 2 (length): expected a number" in reason
    assert set(steps) == {"PreprocessData"}, "nothing runs after a failed step"
