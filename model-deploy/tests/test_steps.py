"""The inference pipeline's container scripts, run as SageMaker would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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


def test_a_training_layout_file_is_refused_as_an_inference_batch(tmp_path: Path) -> None:
    batch = tmp_path / "opt/ml/processing/input/batch"
    batch.mkdir(parents=True)
    (batch / "inference-data.csv").write_text("M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\n")
    done = _run("preprocess_inference.py", tmp_path, "--input-uri", "s3://b/k/inference-data.csv")
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "line 1: 9 columns — this is the training layout" in failure


def _quality(tmp_path: Path, predictions: list[float], truth: list[float], threshold: str):  # type: ignore[no-untyped-def]
    base = tmp_path / "opt/ml/processing"
    (base / "predictions").mkdir(parents=True)
    (base / "ground_truth").mkdir(parents=True)
    (base / "predictions/inference-data.csv.out").write_text(
        "".join(f"M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,{p}\n" for p in predictions)
    )
    (base / "ground_truth/ground-truth.csv").write_text("".join(f"{t}\n" for t in truth))
    return _run("model_quality.py", tmp_path, "--mse-threshold", threshold)


def test_model_quality_passes_under_the_threshold(tmp_path: Path) -> None:
    done = _quality(tmp_path, [10.0, 8.0, 6.0], [11.0, 8.0, 5.0], "10")
    assert done.returncode == 0, done.stderr
    report = json.loads(
        (tmp_path / "opt/ml/processing/model_quality/model_quality.json").read_text()
    )
    assert abs(report["regression_metrics"]["mse"]["value"] - 2 / 3) < 1e-9
    assert report["threshold"]["passed"] is True


def test_model_quality_fails_over_the_threshold_with_mse_and_threshold(tmp_path: Path) -> None:
    done = _quality(tmp_path, [10.0, 8.0], [20.0, 18.0], "10")
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "mse 100.0000 > accuracy_mse_threshold 10" in failure
