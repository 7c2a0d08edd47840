"""Golden tests: the generated definitions, as data. Any change to a pipeline shows here
(regenerate on purpose with ``pytest --update-golden`` and review the diff)."""

from __future__ import annotations

import json

import pytest

from batchops.config import load_settings
from batchops.pipelines.build import build, check_golden
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow


def _steps(definition: dict) -> dict[str, dict]:
    found: dict[str, dict] = {}

    def walk(steps: list[dict]) -> None:
        for step in steps:
            found[step["Name"]] = step
            walk(step.get("Arguments", {}).get("IfSteps", []))
            walk(step.get("Arguments", {}).get("ElseSteps", []))

    walk(definition["Steps"])
    return found


@pytest.mark.parametrize("engine", ["batchops", "model-monitor"])
@pytest.mark.parametrize("key", ["training", "hpo"])
def test_definition_matches_golden(
    key: str, engine: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if engine != "batchops":
        monkeypatch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", engine)
    proj = project("model-build")
    built = build(proj, proj.spec(key), load_settings("data-science"))
    variant = "" if engine == "batchops" else engine
    golden = proj.golden_path(proj.spec(key), "data-science", variant)
    problem = check_golden(built, golden, update=update_golden)
    assert problem is None, problem
    text = json.dumps(built.definition)
    analyzer = "sagemaker-model-monitor-analyzer" in text or '"QualityCheck"' in text
    assert analyzer == (engine == "model-monitor")


def test_training_registers_pending_with_metrics_baselines_and_metadata() -> None:
    proj = project("model-build")
    built = build(proj, proj.spec("training"), load_settings("data-science"))
    steps = _steps(built.definition)
    assert list(steps) == [
        "PreprocessData",
        "BaselineDataQuality",
        "TrainModel",
        "EvaluateModel",
        "CheckRmse",
        "RegisterModel",
        "FailOnRmse",
    ]
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert set(register["DriftCheckBaselines"]["ModelDataQuality"]) == {"Statistics", "Constraints"}
    assert register["CustomerMetadataProperties"]["source"] == "training"
    assert set(register["CustomerMetadataProperties"]) == {
        "source",
        "pipeline_execution_arn",
        "git_commit",
        "user_id",
    }
    baseline = steps["BaselineDataQuality"]
    assert baseline["Type"] == "Processing"
    arguments = baseline["Arguments"]["AppSpecification"]["ContainerArguments"]
    assert arguments[arguments.index("--mode") + 1] == "baseline"
    # both registrations point at the files the baseline step writes
    written = {
        "Get": "Steps.BaselineDataQuality.ProcessingOutputConfig.Outputs"
        "['quality_check_output'].S3Output.S3Uri"
    }
    for block in (register["DriftCheckBaselines"], register["ModelMetrics"]):
        quality = block["ModelDataQuality"]
        for kind, name in (("Statistics", "statistics.json"), ("Constraints", "constraints.json")):
            assert quality[kind]["S3Uri"] == {"Std:Join": {"On": "/", "Values": [written, name]}}
    assert "RmseThreshold" in json.dumps(steps["FailOnRmse"]["Arguments"])
