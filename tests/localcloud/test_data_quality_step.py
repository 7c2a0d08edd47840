"""The data-quality steps on the local cloud, for both engines.

A version trained by the training pipeline (its ``BaselineDataQuality`` step registers the
baseline), the inference definition stamped with it as ``batchops deploy`` stamps it, then
batches through ``CheckDataQuality``: a clean batch is clean, a drifted one succeeds with
violations (a warning, found through ``DescribeProcessingJob`` for the default engine's
Processing step, through the step metadata for Model Monitor's QualityCheck), and — with
the default engine — a registered baseline file that is gone fails the check naming the
version and the file.
"""

from __future__ import annotations

import pytest

from batchops.config import load_settings
from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.deploy import baseline_folder
from batchops.functions.quality_report import find_report
from batchops.pipelines import deploy as pipelines
from batchops.pipelines.build import build, stamp
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", params=["batchops", "model-monitor"])
def engine(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", request.param)
        yield request.param


@pytest.fixture(scope="module")
def version(cloud, engine, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A version registered by a training run (its baseline made by the Processing step)."""
    from batchops.aws import clients_for

    settings = load_settings("data-science")
    clients = clients_for(settings, cloud.endpoint)
    proj = project("model-build")
    pipelines.upsert(clients, settings, build(proj, proj.spec("training"), settings))
    data = generate(tmp_path_factory.mktemp("train"), rows=600, seed=8)
    key = f"{settings.training_data_prefix}dq-step/train.csv"
    body = data.files[Layout.TRAINING].read_bytes()
    clients.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=body)
    arn = pipelines.start(
        clients, settings.pipeline_train, {"InputBucket": settings.bucket_name, "InputKey": key}
    )
    assert pipelines.wait(clients, arn, timeout_s=600)["PipelineExecutionStatus"] == "Succeeded"
    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    package_arn = steps["RegisterModel"]["Metadata"]["RegisterModel"]["Arn"]
    package = clients.client("sagemaker").describe_model_package(ModelPackageName=package_arn)
    return clients, package


@pytest.fixture(scope="module")
def inference(cloud, engine, version):  # type: ignore[no-untyped-def]
    """The staging inference pipeline stamped with the version, as ``batchops deploy`` does."""
    from batchops.aws import clients_for

    _, package = version
    settings = load_settings("staging")
    clients = clients_for(settings, cloud.endpoint)
    proj = project("model-deploy")
    built = build(proj, proj.spec("inference"), settings)
    quality = package["DriftCheckBaselines"]["ModelDataQuality"]
    statistics, constraints = quality["Statistics"]["S3Uri"], quality["Constraints"]["S3Uri"]
    container = package["InferenceSpecification"]["Containers"][0]
    stamp(
        built.definition,
        {
            "ModelPackageArn": package["ModelPackageArn"],
            "ModelImageUri": container["Image"],
            "ModelDataUrl": container["ModelDataUrl"],
            "BaselineStatistics": statistics,
            "BaselineConstraints": constraints,
            "BaselineFolder": baseline_folder(package["ModelPackageArn"], statistics, constraints),
        },
    )
    pipelines.upsert(clients, settings, built)
    return settings, clients


def _run(inference, tmp_path, name: str, drift: str | None = None):  # type: ignore[no-untyped-def]
    settings, clients = inference
    batch = generate(tmp_path, rows=400, inference_rows=400, seed=9, drift=drift)
    # a batch is scored once (batchops.batches): each engine's run gets a key of its own
    key = f"{settings.inference_data_prefix}dq-step/{settings.data_quality_engine}/{name}/batch.csv"
    body = batch.files[Layout.INFERENCE].read_bytes()
    clients.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=body)
    arn = pipelines.start(
        clients, settings.pipeline_inf, {"InputBucket": settings.bucket_name, "InputKey": key}
    )
    described = pipelines.wait(clients, arn, timeout_s=600)
    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    return described, steps


def _report(inference, step):  # type: ignore[no-untyped-def]
    """The step's report as the notification Lambda and the demo find it."""
    _, clients = inference
    return find_report(clients.client("sagemaker"), clients.client("s3"), step["Metadata"])


def test_the_training_baseline_is_registered_twice_from_the_processing_step(version) -> None:  # type: ignore[no-untyped-def]
    _, package = version
    registered = package["DriftCheckBaselines"]["ModelDataQuality"]
    assert registered == package["ModelMetrics"]["ModelDataQuality"]
    assert registered["Statistics"]["S3Uri"].endswith("/data-quality-baseline/statistics.json")
    assert registered["Constraints"]["S3Uri"].endswith("/data-quality-baseline/constraints.json")


def test_a_clean_batch_is_clean_and_a_drifted_one_warns_without_failing(  # type: ignore[no-untyped-def]
    inference, tmp_path
) -> None:
    described, steps = _run(inference, tmp_path / "clean", "clean")
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    check = steps["CheckDataQuality"]
    assert check["StepStatus"] == "Succeeded"
    clean = _report(inference, check)
    assert clean is not None and clean.violations == []
    assert clean.output_uri.endswith("/data-quality")

    described, steps = _run(inference, tmp_path / "drifted", "drifted", drift="height*1.6")
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    drifted = _report(inference, steps["CheckDataQuality"])
    assert drifted is not None
    assert ("_c3", "baseline_drift_check") in {
        (v["feature_name"], v["constraint_check_type"]) for v in drifted.violations
    }
    assert drifted.baseline_statistics_uri.endswith("/data-quality-baseline/statistics.json")


def test_the_engine_decides_the_step_type(inference, engine) -> None:  # type: ignore[no-untyped-def]
    settings, clients = inference
    definition = clients.client("sagemaker").describe_pipeline(PipelineName=settings.pipeline_inf)
    analyzer = "sagemaker-model-monitor-analyzer" in definition["PipelineDefinition"]
    assert analyzer == (engine == "model-monitor")


def test_a_registered_baseline_file_that_is_gone_fails_naming_version_and_file(  # type: ignore[no-untyped-def]
    engine, version, inference, tmp_path
) -> None:
    """(Model Monitor's QualityCheck fails on the missing file without naming the version.)"""
    admin, package = version
    uri = package["DriftCheckBaselines"]["ModelDataQuality"]["Statistics"]["S3Uri"]
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    saved = admin.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    admin.client("s3").delete_object(Bucket=bucket, Key=key)
    try:
        described, steps = _run(inference, tmp_path / "gone", "gone")
    finally:
        admin.client("s3").put_object(Bucket=bucket, Key=key, Body=saved)
    assert described["PipelineExecutionStatus"] == "Failed"
    reason = steps["CheckDataQuality"]["FailureReason"]
    assert uri in reason, reason
    assert (package["ModelPackageArn"] in reason) == (engine == "batchops"), reason
    assert "CheckModelQuality" not in steps
