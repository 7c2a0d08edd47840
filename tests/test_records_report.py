"""The report's records: DAGs from real definitions, drift histograms from real statistics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from batchops.records import dag, feature, histograms
from batchops.report import render


def _edges(definition: dict) -> set[tuple[str, str]]:
    return {(a, b) for a, b in dag(definition)["edges"]}


def test_the_training_dag_follows_the_pipeline_and_drops_implied_edges(repo_root: Path) -> None:
    definition = json.loads(
        (repo_root / "model-build/tests/golden/training-data-science.json").read_text()
    )
    graph = dag(definition)
    names = [n["name"] for n in graph["nodes"]]
    assert names == [
        "PreprocessData",
        "BaselineDataQuality",
        "TrainModel",
        "EvaluateModel",
        "CheckTestQuality",
        "RegisterModel",
        "FailOnTestQuality",
    ]
    assert {n["name"]: n["branch"] for n in graph["nodes"]}["FailOnTestQuality"] == "else"
    assert _edges(definition) == {
        ("PreprocessData", "BaselineDataQuality"),
        ("BaselineDataQuality", "TrainModel"),  # DependsOn
        ("TrainModel", "EvaluateModel"),
        ("EvaluateModel", "CheckTestQuality"),
        ("CheckTestQuality", "RegisterModel"),  # branches of the condition
        ("CheckTestQuality", "FailOnTestQuality"),
    }


def test_the_inference_dag_joins_the_quality_check_and_the_condition(repo_root: Path) -> None:
    definition = json.loads(
        (repo_root / "model-deploy/tests/golden/inference-staging.json").read_text()
    )
    edges = _edges(definition)
    assert ("CreateModel", "BatchTransform") in edges
    assert ("PreprocessInference", "CheckDataQuality") in edges
    assert ("CheckGroundTruth", "CheckModelQuality") in edges
    # every edge goes forward: the graph is acyclic, so the report can lay it out
    order = [n["name"] for n in dag(definition)["nodes"]]
    assert all(order.index(a) < order.index(b) for a, b in edges)


def test_numeric_histograms_share_one_grid_and_show_the_shift(drift_statistics: tuple) -> None:
    baseline, batch = drift_statistics
    drawn = histograms(feature(baseline, "_c1"), feature(batch, "_c1"))
    assert drawn is not None and drawn["kind"] == "numeric"
    assert len(drawn["edges"]) == len(drawn["baseline"]) + 1 == len(drawn["batch"]) + 1
    assert sum(drawn["baseline"]) == pytest.approx(1.0, abs=1e-3)
    assert sum(drawn["batch"]) == pytest.approx(1.0, abs=1e-3)
    centres = np.diff(drawn["edges"]) / 2 + np.array(drawn["edges"][:-1])
    mean_base = float(np.dot(centres, drawn["baseline"]))
    mean_batch = float(np.dot(centres, drawn["batch"]))
    assert mean_batch / mean_base == pytest.approx(1.6, rel=0.1)


def test_categorical_histograms_compare_the_same_values(drift_statistics: tuple) -> None:
    baseline, batch = drift_statistics
    drawn = histograms(feature(baseline, "_c0"), feature(batch, "_c0"))
    assert drawn is not None and drawn["kind"] == "categorical"
    assert drawn["values"] == ["F", "I", "M"]
    assert drawn["baseline"] == drawn["batch"]  # the batch kept the same sexes


def test_the_report_draws_records_and_escapes_them(report_records: dict) -> None:
    summary = {"timings_s": {"train": 9.0, "total": 9.0}, "deployments": []}
    page = render(summary, report_records)
    assert "<script>" not in page and "train&lt;script&gt;" in page
    for ident in ('id="gantt"', 'id="dag-0"', 'id="drift-0"', 'id="drift-1"', 'id="timeline"'):
        assert ident in page
    assert "height (_c3)" in page and "a &lt;b&gt;" in page
    # the step that ran is coloured, the branch not taken is drawn as not run
    assert "PreprocessData (Processing): Succeeded" in page
    assert "FailOnTestQuality (Fail): not run" in page


def test_a_summary_without_records_still_renders() -> None:
    page = render({"timings_s": {"total": 1.0}})
    assert "no pipeline execution recorded" in page and "batchops report --endpoint" in page
