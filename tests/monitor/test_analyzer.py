"""The analyzer entry the local cloud's executor calls with the container's environment."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from batchops.errors import ConfigError, DataError
from batchops.monitor import analyzer

from .conftest import Abalone, inference_batch


def test_without_baselines_run_writes_a_baseline_and_returns_zero(
    abalone: Abalone, tmp_path: Path
) -> None:
    env = {
        "dataset_source": str(abalone.data.parent),
        "output_path": str(tmp_path / "out"),
        "dataset_format": '{"csv": {"header": false}}',
    }
    assert analyzer.run(env) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "constraints.json",
        "statistics.json",
    ]


def test_with_baselines_violations_are_written_and_run_still_returns_zero(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = inference_batch(tmp_path / "batch", seed=5, drift="height*1.6")
    env = {
        "dataset_source": str(batch),
        "output_path": str(tmp_path / "out"),
        "dataset_format": '{"csv": {"header": false}}',
        "baseline_statistics": str(abalone.statistics),
        "baseline_constraints": str(abalone.constraints),
        "publish_cloudwatch_metrics": "Disabled",
    }
    assert analyzer.run(env) == 0
    violations = json.loads((tmp_path / "out/constraint_violations.json").read_text())
    assert [v["feature_name"] for v in violations["violations"]] == ["_c3"]
    assert (tmp_path / "out/statistics.json").is_file()
    assert analyzer.main({**env, "fail_on_violation": "true"}) == analyzer.VIOLATIONS_EXIT_CODE


def test_model_quality_entry_reads_prediction_and_label_columns(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    truth = rng.integers(3, 20, 400).astype(float)
    rows = [f"{t + rng.normal(0, 1):.3f},{t:.0f}" for t in truth]
    (tmp_path / "joined.csv").write_text("prediction,label\n" + "\n".join(rows) + "\n")
    base = {
        "analysis_type": "MODEL_QUALITY",
        "problem_type": "Regression",
        "dataset_source": str(tmp_path / "joined.csv"),
        "dataset_format": '{"csv": {"header": true}}',
        "inference_attribute": "prediction",
        "ground_truth_attribute": "label",
    }
    assert analyzer.run({**base, "output_path": str(tmp_path / "baseline")}) == 0
    stats = json.loads((tmp_path / "baseline/statistics.json").read_text())
    assert stats["regression_metrics"]["mse"]["value"] == pytest.approx(1.0, rel=0.2)
    (tmp_path / "tight.json").write_text(
        json.dumps(
            {
                "version": 0.0,
                "regression_constraints": {
                    "mse": {"threshold": 0.5, "comparison_operator": "GreaterThanThreshold"}
                },
            }
        )
    )
    check = {
        **base,
        "output_path": str(tmp_path / "check"),
        "baseline_constraints": str(tmp_path / "tight.json"),
    }
    result = analyzer.analyze(check)
    assert result.status == "CompletedWithViolations"
    assert result.violations[0].feature_name == "mse"
    assert analyzer.run(check) == 0


@pytest.mark.parametrize(
    ("env", "error", "message"),
    [
        ({}, ConfigError, "dataset_source is not set"),
        (
            {"dataset_source": "x", "output_path": "o", "dataset_format": "{"},
            DataError,
            "not valid JSON",
        ),
        (
            {"dataset_source": "x", "output_path": "o", "dataset_format": '{"avro": {}}'},
            DataError,
            "unknown format 'avro'",
        ),
        (
            {"dataset_source": "x", "output_path": "o", "record_preprocessor_script": "s.py"},
            ConfigError,
            "not supported",
        ),
        (
            {
                "dataset_source": "x",
                "output_path": "o",
                "analysis_type": "MODEL_QUALITY",
                "problem_type": "Ranking",
            },
            ConfigError,
            "only Regression, BinaryClassification, MulticlassClassification are supported",
        ),
        (
            {"dataset_source": "x", "output_path": "o", "baseline_statistics": "s.json"},
            ConfigError,
            "without baseline_constraints",
        ),
    ],
)
def test_bad_environment_is_one_clear_error(env: dict[str, str], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        analyzer.run(env)
