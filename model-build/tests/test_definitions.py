"""Golden tests: the generated definitions, as data. Any change to a pipeline shows here
(regenerate on purpose with ``pytest --update-golden`` and review the diff)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from batchops import lifecycle
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
        "CheckTestQuality",
        "RegisterModel",
        "FailOnTestQuality",
    ]
    assert set(steps) == set(lifecycle.TRAINING_STEPS.values()) - {"TuneModel"}
    register = steps["RegisterModel"]["Arguments"]
    assert register["ModelApprovalStatus"] == "PendingManualApproval"
    assert set(register["DriftCheckBaselines"]["ModelDataQuality"]) == {"Statistics", "Constraints"}
    assert register["CustomerMetadataProperties"]["source"] == "training"
    metadata = register["CustomerMetadataProperties"]
    assert set(metadata) == {
        "source",
        "pipeline_execution_arn",
        "git_commit",
        "user_id",
        *lifecycle.VERSION_METADATA,
    }
    assert metadata["quality_metric"] == "mse" and metadata["problem_type"] == "regression"
    # CreateModelPackage: CustomerMetadataValue is 1-256 characters of a restricted set
    value_pattern = re.compile(r"^[\w\s.:/=+\-@]{1,256}$")
    for name, value in metadata.items():
        assert isinstance(value, dict) or value_pattern.match(value), (name, value)
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
    assert "QualityThreshold" in json.dumps(steps["FailOnTestQuality"]["Arguments"])
    gate = steps["CheckTestQuality"]["Arguments"]["Conditions"][0]
    assert gate["Type"] == "LessThanOrEqualTo", "mse: lower is better"
    assert gate["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.mse.value"


def test_a_classification_spec_changes_objective_gate_and_tuning(
    repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = repo_root / "examples/datasets/breast-cancer/dataset.yaml"
    monkeypatch.setenv("BATCHOPS_DATASET_SPEC", str(spec))
    proj = project("model-build")
    settings = load_settings("data-science")
    built = build(proj, proj.spec("hpo"), settings)
    steps = _steps(built.definition)
    gate = steps["CheckTestQuality"]["Arguments"]["Conditions"][0]
    assert gate["Type"] == "GreaterThanOrEqualTo", "f1: higher is better"
    assert gate["LeftValue"]["Std:JsonGet"]["Path"] == "binary_classification_metrics.f1.value"
    parameters = {p["Name"]: p for p in built.definition["Parameters"]}
    assert parameters["QualityThreshold"]["DefaultValue"] == 0.85
    fail = json.dumps(steps["FailOnTestQuality"]["Arguments"])
    assert "Test f1" in fail and "is below the threshold" in fail
    tuning = steps["TuneModel"]["Arguments"]["HyperParameterTuningJobConfig"]
    assert tuning["HyperParameterTuningJobObjective"] == {
        "MetricName": "validation:logloss",
        "Type": "Minimize",
    }
    definitions = steps["TuneModel"]["Arguments"]["TrainingJobDefinition"]
    assert definitions["AlgorithmSpecification"]["MetricDefinitions"] == [
        {"Name": "validation:logloss", "Regex": "validation-logloss:([0-9\\.]+)"}
    ]
    metadata = steps["RegisterModel"]["Arguments"]["CustomerMetadataProperties"]
    assert metadata["dataset"] == "breast-cancer" and metadata["quality_threshold"] == "0.85"
    other = build(proj, proj.spec("hpo"), settings)
    assert other.folder == built.folder, "cached by the spec's digest"
    monkeypatch.delenv("BATCHOPS_DATASET_SPEC")
    assert build(proj, proj.spec("hpo"), settings).folder != built.folder
