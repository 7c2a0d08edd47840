"""The inference pipeline's container scripts, run as SageMaker would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

STEPS = Path(__file__).resolve().parents[1] / "steps"


def _run(script: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATCHOPS_CONTAINER_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, str(STEPS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _quality(  # type: ignore[no-untyped-def]
    tmp_path: Path, python: str, predictions: list[float], truth: list[float], threshold: str
):
    """The model-quality step as it ships (its step code archive), run by ``python``."""
    from batchops.pipelines.step_code import step_code

    base = tmp_path / "opt/ml/processing"
    (base / "predictions").mkdir(parents=True)
    (base / "ground_truth").mkdir(parents=True)
    (base / "predictions/inference-data.csv.out").write_text(
        "".join(f"M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,{p}\n" for p in predictions)
    )
    (base / "ground_truth/ground-truth.csv").write_text("".join(f"{t}\n" for t in truth))
    archive = step_code(STEPS / "model_quality.py", tmp_path / "build")
    env = {"PATH": os.environ["PATH"], "BATCHOPS_CONTAINER_ROOT": str(tmp_path)}
    return subprocess.run(
        [python, archive, "--mse-threshold", threshold],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["project", "sklearn-1.2-1 image"])
def runtime(request: pytest.FixtureRequest) -> str:
    """The project's Python, and the scikit-learn image's (Python 3.9, numpy 1.24.1, no
    batchops installed): the step code must carry what it needs."""
    if request.param == "project":
        return sys.executable
    return str(request.getfixturevalue("sklearn_image_python"))


def test_model_quality_passes_under_the_threshold(tmp_path: Path, runtime: str) -> None:
    done = _quality(tmp_path, runtime, [10.0, 8.0, 6.0], [11.0, 8.0, 5.0], "10")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "opt/ml/processing/model_quality"
    statistics = json.loads((out / "statistics.json").read_text())
    assert abs(statistics["regression_metrics"]["mse"]["value"] - 2 / 3) < 1e-9
    assert statistics["dataset"]["item_count"] == 3
    constraints = json.loads((out / "constraints.json").read_text())
    assert constraints["regression_constraints"]["mse"]["threshold"] == 10.0
    assert json.loads((out / "constraint_violations.json").read_text()) == {"violations": []}


def test_model_quality_fails_over_the_threshold_with_mse_and_threshold(
    tmp_path: Path, runtime: str
) -> None:
    done = _quality(tmp_path, runtime, [10.0, 8.0], [20.0, 18.0], "10")
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "mse 100.0000 > accuracy_mse_threshold 10" in failure
    violations = json.loads(
        (tmp_path / "opt/ml/processing/model_quality/constraint_violations.json").read_text()
    )["violations"]
    assert [v["metric_name"] for v in violations] == ["mse"]


def test_model_quality_bad_label_is_one_line_naming_file_and_line(
    tmp_path: Path, runtime: str
) -> None:
    done = _quality(tmp_path, runtime, [10.0, 8.0], [11.0, float("nan")], "10")
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "ground-truth.csv" in failure and "line 2" in failure and "nan" in failure
    assert "\n" not in failure.strip() and "Traceback" not in done.stderr
