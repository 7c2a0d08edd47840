"""Golden tests of the inference pipeline definition (``pytest --update-golden`` to accept),
for both data-quality engines: batchops' (the default) and Model Monitor's."""

from __future__ import annotations

import json

import pytest

from batchops.config import load_settings
from batchops.pipelines.build import build, check_golden
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow
STEPS = [
    "CreateModel",
    "PreprocessInference",
    "BatchTransform",
    "CheckDataQuality",
    "CheckGroundTruth",
]


@pytest.fixture(params=["batchops", "model-monitor"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param != "batchops":
        monkeypatch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", request.param)
    return str(request.param)


def _built(engine: str):  # type: ignore[no-untyped-def]
    proj = project("model-deploy")
    return proj, build(proj, proj.spec("inference"), load_settings("staging"))


def test_inference_definition_matches_golden(update_golden: bool, engine: str) -> None:
    proj, built = _built(engine)
    variant = "" if engine == "batchops" else engine
    golden = proj.golden_path(proj.spec("inference"), "staging", variant)
    problem = check_golden(built, golden, update=update_golden)
    assert problem is None, problem
    assert [s["Name"] for s in built.definition["Steps"]] == STEPS


def test_the_default_check_is_a_processing_step_in_the_scikit_learn_image() -> None:
    _, built = _built("batchops")
    text = json.dumps(built.definition)
    assert "sagemaker-model-monitor-analyzer" not in text and '"QualityCheck"' not in text
    check = next(s for s in built.definition["Steps"] if s["Name"] == "CheckDataQuality")
    assert check["Type"] == "Processing"
    app = check["Arguments"]["AppSpecification"]
    assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in app["ImageUri"]
    assert app["ContainerEntrypoint"] == ["python3", "/opt/ml/processing/input/code/job.pyz"]
    inputs = {i["InputName"]: i["S3Input"] for i in check["Arguments"]["ProcessingInputs"]}
    assert set(inputs) == {"baseline_dataset_input", "baseline", "wheels", "code"}
    assert inputs["baseline"]["S3Uri"] == {"Get": "Parameters.BaselineFolder"}
    assert inputs["baseline_dataset_input"]["LocalPath"] == (
        "/opt/ml/processing/input/baseline_dataset_input"
    )
    (output,) = check["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert output["OutputName"] == "quality_check_output"
    assert output["S3Output"]["S3Uri"]["Std:Join"]["Values"][-1] == "data-quality"
    arguments = check["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--mode") + 1] == "check"
    assert {"Get": "Parameters.ModelPackageArn"} in arguments


def test_with_model_monitor_the_check_is_a_quality_check_that_only_warns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", "model-monitor")
    _, built = _built("model-monitor")
    check = next(s for s in built.definition["Steps"] if s["Name"] == "CheckDataQuality")
    assert check["Type"] == "QualityCheck" and check["FailOnViolation"] is False
    assert "sagemaker-model-monitor-analyzer" in check["Arguments"]["AppSpecification"]["ImageUri"]
    assert "BaselineFolder" not in json.dumps(built.definition)
