"""Model quality for regression: metrics, Model Monitor files, the verdict."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.errors import DataError
from batchops.monitor.model_quality import evaluate_model_quality, regression_metrics


@pytest.fixture
def batch(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Predictions of a decent model, the batch's ground truth, and shifted ground truth."""
    clean = generate(tmp_path / "clean", rows=900, seed=21, layouts=(Layout.GROUND_TRUTH,))
    shifted = generate(
        tmp_path / "shifted", rows=900, seed=21, drift="rings+4", layouts=(Layout.GROUND_TRUTH,)
    )
    truth = np.loadtxt(clean.files[Layout.GROUND_TRUTH])
    noise = np.random.default_rng(0).normal(0, 2.0, truth.size)
    np.savetxt(tmp_path / "predictions.csv", truth + noise, fmt="%.4f")
    return (
        tmp_path / "predictions.csv",
        clean.files[Layout.GROUND_TRUTH],
        shifted.files[Layout.GROUND_TRUTH],
    )


def test_metrics_match_their_definitions() -> None:
    truth = np.array([3.0, 5.0, 7.0, 9.0])
    predicted = np.array([2.0, 5.0, 8.0, 11.0])
    metrics = regression_metrics(predicted, truth)
    assert metrics.values["mse"] == pytest.approx(1.5)
    assert metrics.values["rmse"] == pytest.approx(math.sqrt(1.5))
    assert metrics.values["mae"] == pytest.approx(1.0)
    assert metrics.values["r2"] == pytest.approx(1 - 6.0 / 20.0)
    assert math.isnan(metrics.standard_deviations["mse"])  # < 200 samples, as AWS


def test_good_model_passes_and_writes_model_monitor_files(
    batch: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    predictions, truth, _ = batch
    result = evaluate_model_quality(predictions, truth, 6.0, tmp_path / "out")
    assert result.passed
    stats = json.loads((tmp_path / "out/statistics.json").read_text())
    assert stats["dataset"]["item_count"] == 300
    assert set(stats["regression_metrics"]) == {"mae", "mse", "rmse", "r2"}
    assert stats["regression_metrics"]["mse"]["value"] == pytest.approx(4.0, rel=0.25)
    assert stats["regression_metrics"]["mse"]["standard_deviation"] > 0
    constraints = json.loads((tmp_path / "out/constraints.json").read_text())
    assert constraints["regression_constraints"] == {
        "mse": {"threshold": 6.0, "comparison_operator": "GreaterThanThreshold"}
    }
    assert json.loads((tmp_path / "out/constraint_violations.json").read_text()) == {
        "violations": []
    }


def test_shifted_ground_truth_fails_with_mse_and_threshold_in_the_description(
    batch: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    predictions, _, shifted = batch
    result = evaluate_model_quality(predictions, shifted, 6.0, tmp_path / "out")
    assert not result.passed
    (violation,) = json.loads((tmp_path / "out/constraint_violations.json").read_text())[
        "violations"
    ]
    assert violation["metric_name"] == "mse"
    assert violation["constraint_check_type"] == "GreaterThanThreshold"
    mse = result.metrics.values["mse"]
    assert mse > 16
    assert f"{mse:.6g}" in violation["description"]
    assert "'6'" in violation["description"]
    assert "mse" in result.failure_message()


def test_r2_threshold_is_a_lower_bound(batch: tuple[Path, Path, Path], tmp_path: Path) -> None:
    predictions, truth, shifted = batch
    assert evaluate_model_quality(predictions, truth, 0.3, tmp_path / "a", metric="r2").passed
    failed = evaluate_model_quality(predictions, shifted, 0.3, tmp_path / "b", metric="r2")
    assert failed.violations[0]["constraint_check_type"] == "LessThanThreshold"


def test_row_count_mismatch_names_both_files(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("1\n2\n3\n")
    (tmp_path / "t.csv").write_text("1\n2\n")
    with pytest.raises(DataError, match=r"p\.csv has 3 rows but .*t\.csv has 2"):
        evaluate_model_quality(tmp_path / "p.csv", tmp_path / "t.csv", 1.0, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_non_numeric_prediction_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("1.0\n2.5\noops\n")
    (tmp_path / "t.csv").write_text("1\n2\n3\n")
    with pytest.raises(DataError) as error:
        evaluate_model_quality(tmp_path / "p.csv", tmp_path / "t.csv", 1.0, tmp_path / "out")
    message = str(error.value)
    assert "p.csv" in message and "line 3" in message and "_c0" in message and "'oops'" in message
    assert "\n" not in message
