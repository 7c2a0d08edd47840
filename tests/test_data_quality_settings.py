"""The data-quality engine setting and what the pipeline builders check before using it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from batchops.config import load_settings
from batchops.deploy import baseline_folder
from batchops.errors import ConfigError, GovernanceError, PipelineError
from batchops.pipelines import data_quality


def test_the_engine_is_batchops_by_default_and_model_monitor_on_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings("production").data_quality_engine == "batchops"
    monkeypatch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", "model-monitor")
    assert load_settings("production").data_quality_engine == "model-monitor"


def test_an_unknown_engine_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATCHOPS_DATA_QUALITY_ENGINE", "deequ")
    with pytest.raises(ConfigError) as caught:
        load_settings("staging")
    message = str(caught.value)
    assert "BATCHOPS_DATA_QUALITY_ENGINE" in message and "'batchops' or 'model-monitor'" in message


def test_the_baseline_folder_is_the_one_both_files_share() -> None:
    arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package/g/1"
    run = "s3://bucket/prefix/training/runs/e1/data-quality-baseline"
    assert baseline_folder(arn, f"{run}/statistics.json", f"{run}/constraints.json") == f"{run}/"
    assert (
        baseline_folder(arn, f"{run}/statistics.json", "s3://bucket/prefix/other/constraints.json")
        == "s3://bucket/prefix/"
    )
    with pytest.raises(GovernanceError, match="share no folder"):
        baseline_folder(arn, "s3://a/p/statistics.json", "s3://b/p/constraints.json")


def test_wheels_that_are_not_the_pinned_ones_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = data_quality.step_wheels("sklearn-1.2-1")
    copy = tmp_path / "sklearn-1.2-1"
    shutil.copytree(real, copy)
    monkeypatch.setenv(data_quality.WHEELS_DIR_ENV, str(tmp_path))
    assert data_quality.step_wheels("sklearn-1.2-1") == copy
    wheel = next(copy.glob("polars-*.whl"))
    wheel.write_bytes(wheel.read_bytes() + b"\0")
    with pytest.raises(PipelineError, match=r"not one of the pinned hashes"):
        data_quality.step_wheels("sklearn-1.2-1")


def test_missing_wheels_say_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data_quality.WHEELS_DIR_ENV, str(tmp_path))
    with pytest.raises(PipelineError, match=r"make step-wheels"):
        data_quality.step_wheels("sklearn-1.2-1")


def test_the_engine_runs_only_in_an_image_it_has_wheels_for() -> None:
    assert data_quality.engine_runtime({"framework": "sklearn", "version": "1.2-1"}) == (
        "sklearn-1.2-1"
    )
    with pytest.raises(PipelineError, match=r"sklearn 1\.2-1"):
        data_quality.engine_runtime({"framework": "xgboost", "version": "1.7-1"})
