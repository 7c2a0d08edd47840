"""The lifecycle contract (batchops.lifecycle) is what every definition, script and rule says."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from batchops import lifecycle
from batchops.config import load_settings
from batchops.events import MODEL_QUALITY_STEP, load_pattern, pattern_values

REPO = Path(__file__).resolve().parents[1]


def _constants(script: Path) -> dict[str, str]:
    tree = ast.parse(script.read_text(encoding="utf-8"))
    return {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def test_step_scripts_write_the_files_the_contract_names() -> None:
    deploy = REPO / "model-deploy/steps"
    preprocess = _constants(deploy / "preprocess_inference.py")
    assert preprocess["GROUND_TRUTH_STATUS_FILE"] == lifecycle.GROUND_TRUTH_STATUS_FILE
    assert preprocess["BATCH_REPORT_FILE"] == lifecycle.BATCH_REPORT_FILE
    assert _constants(deploy / "model_quality.py")["VERDICT_FILE"] == lifecycle.VERDICT_FILE
    evaluate = _constants(REPO / "model-build/steps/evaluate.py")
    assert evaluate["EVALUATION_FILE"] == lifecycle.EVALUATION_FILE
    assert evaluate["VERDICT_FILE"] == lifecycle.VERDICT_FILE
    train = (REPO / "model-build/steps/train.py").read_text()
    assert f'"{lifecycle.DATASET_FILE}"' in train, "the model carries the spec as dataset.json"


def test_the_retrain_rules_and_terraform_name_the_contracts_model_quality_step() -> None:
    assert MODEL_QUALITY_STEP == lifecycle.MODEL_QUALITY_STEP
    values = pattern_values(load_settings("production"))
    pattern = load_pattern("model-quality-failed-to-retrain", values)
    assert pattern["detail"]["stepName"] == [lifecycle.MODEL_QUALITY_STEP]
    terraform = (REPO / "shared-modules/batchops-account/main.tf").read_text()
    literal = re.search(r'model_quality_step_name\s*=\s*"([^"]+)"', terraform)
    assert literal and literal.group(1) == lifecycle.MODEL_QUALITY_STEP


def test_notification_settings_name_steps_of_the_contract() -> None:
    known = set(lifecycle.TRAINING_STEPS.values()) | set(lifecycle.INFERENCE_STEPS.values())
    for env in ("data-science", "staging", "production"):
        named = load_settings(env).notification_steps()
        assert named <= known, (env, named - known)


def test_the_demo_reads_files_not_failure_messages() -> None:
    for name in ("demo.py", "demo_summary.py"):
        source = (REPO / "src/batchops" / name).read_text()
        tree = ast.parse(source)
        modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "re" not in modules, f"{name}: no regex over failure messages"
        assert "inference/runs" not in source, f"{name}: the run layout is the contract's"


def test_run_layout() -> None:
    settings = load_settings("staging")
    arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/p/execution/abc123"
    assert lifecycle.run_uri(settings, "inference", arn, "model-quality", "quality.json") == (
        f"s3://{settings.bucket_name}/{settings.bucket_prefix}/inference/runs/abc123/"
        "model-quality/quality.json"
    )
    with pytest.raises(ValueError):
        lifecycle.run_prefix(settings, "scoring", arn)


@pytest.mark.slow
def test_definitions_use_the_contracts_step_and_parameter_names() -> None:
    from batchops.pipelines.build import build
    from batchops.pipelines.project import project

    def names(definition: dict) -> set[str]:
        found: set[str] = set()

        def walk(steps: list[dict]) -> None:
            for step in steps:
                found.add(step["Name"])
                walk(step.get("Arguments", {}).get("IfSteps", []))
                walk(step.get("Arguments", {}).get("ElseSteps", []))

        walk(definition["Steps"])
        return found

    parameters = set(lifecycle.PARAMETERS.values())
    for proj_name, key, env, contract in (
        ("model-build", "training", "data-science", lifecycle.TRAINING_STEPS),
        ("model-build", "hpo", "data-science", lifecycle.TRAINING_STEPS),
        ("model-deploy", "inference", "staging", lifecycle.INFERENCE_STEPS),
    ):
        proj = project(proj_name)
        definition = build(proj, proj.spec(key), load_settings(env)).definition
        assert names(definition) <= set(contract.values()), key
        assert {p["Name"] for p in definition["Parameters"]} <= parameters, key
