"""``batchops monitor baseline|check|model-quality`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from batchops.cli.main import main

from .conftest import Abalone, inference_batch


def test_baseline_then_check_prints_violations_and_exits_zero(
    abalone: Abalone, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["monitor", "baseline", "--data", str(abalone.data), "--out", str(tmp_path / "b")])
        == 0
    )
    assert "4177 rows, 8 features" in capsys.readouterr().out
    batch = inference_batch(tmp_path / "batch", seed=5, drift="height*1.6")
    argv = ["monitor", "check", "--data", str(batch), "--baseline", str(tmp_path / "b")]
    assert main([*argv, "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "1 violation(s)" in out and "_c3" in out and "baseline_drift_check" in out
    assert main([*argv, "--out", str(tmp_path / "c"), "--fail-on-violation"]) == 8


def test_check_json_output_lists_violations(
    abalone: Abalone, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    batch = inference_batch(tmp_path / "batch", seed=6)
    code = main(
        [
            "monitor",
            "check",
            "--data",
            str(batch),
            "--baseline",
            str(abalone.baseline),
            "--out",
            str(tmp_path / "c"),
            "--json",
            "--fail-on-violation",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["item_count"] == 1000 and document["violations"] == []


def test_model_quality_exits_non_zero_on_violation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = np.arange(300) % 20 + 3.0
    np.savetxt(tmp_path / "t.csv", truth, fmt="%g")
    np.savetxt(tmp_path / "p.csv", truth + 3.0, fmt="%g")
    argv = [
        "monitor",
        "model-quality",
        "--predictions",
        str(tmp_path / "p.csv"),
        "--ground-truth",
        str(tmp_path / "t.csv"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main([*argv, "--threshold", "10", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["mse"] == pytest.approx(9.0)
    assert main([*argv, "--threshold", "4"]) == 8
    out = capsys.readouterr().out
    assert "violation: Metric mse with 9 +/- 0 was GreaterThanThreshold '4'" in out
    assert "failed: 1 violation(s)" in out


def test_missing_baseline_file_is_a_one_line_error(
    abalone: Abalone, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b/statistics.json").write_text(abalone.statistics.read_text())
    code = main(
        [
            "monitor",
            "check",
            "--data",
            str(abalone.data),
            "--baseline",
            str(tmp_path / "b"),
            "--out",
            str(tmp_path / "c"),
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing constraints.json" in err
    assert not (tmp_path / "c").exists()
