"""The model-quality gate of a dataset spec: which metric, which documents, pass or fail.

Both teams' steps judge a model the same way — the training evaluation on the test split,
the inference pipeline's ``CheckModelQuality`` on a labelled batch — so this module takes
the spec's document (``dataset.json``, carried by the model), the labels and predictions,
and the threshold in force, and returns Model Monitor's three model-quality documents
(statistics with the problem type's block, constraints with the spec's metric, violations)
plus the lifecycle contract's verdict (``quality.json``: metric, value, threshold,
passed). The metrics themselves are the one implementation's: regression from
:mod:`batchops.monitor.model_quality`, classification from
:mod:`batchops.monitor.classification`.

Standard library and numpy only, Python 3.8 compatible: it runs inside the step
containers as part of their step code.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from batchops.errors import DataError
from batchops.monitor.classification import (
    classification_block,
    classification_metrics,
    metric_location,
)

_CONSTRAINT_BLOCKS = {
    "regression": "regression_constraints",
    "binary_classification": "binary_classification_constraints",
    "multiclass_classification": "multiclass_classification_constraints",
}


@dataclass(frozen=True)
class Evaluation:
    statistics: dict[str, Any]
    constraints: dict[str, Any]
    violations: list[dict[str, str]]
    verdict: dict[str, Any]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return bool(self.verdict["passed"])


def _value(document: dict[str, Any], problem_type: str, metric: str) -> tuple[float, float]:
    block, key = metric_location(problem_type, metric)
    entry = document[block][key]

    def number(raw: Any) -> float:
        return math.nan if raw in ("NaN", None) else float(raw)

    return number(entry["value"]), number(entry.get("standard_deviation"))


def statistics_for(
    dataset: dict[str, Any], truth: list[str], predicted: list[str], score: list[float] | None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Model Monitor's statistics document for the dataset's problem type."""
    problem = dataset["problem_type"]
    if problem == "regression":
        from batchops.monitor.model_quality import regression_metrics, statistics_document

        try:
            values = np.asarray(predicted, dtype=np.float64)
            labels = np.asarray(truth, dtype=np.float64)
        except ValueError as exc:
            raise DataError(f"regression predictions and labels are numbers: {exc}") from None
        return statistics_document(regression_metrics(values, labels)), ()
    try:
        metrics = classification_metrics(
            problem,
            truth,
            predicted,
            classes=list(dataset.get("classes") or []),
            positive_label=dataset.get("positive_label"),
            score=score,
        )
    except ValueError as exc:
        raise DataError(str(exc)) from None
    notes = tuple(
        f"class {c!r} has no row in the ground truth (its recall is not measured)"
        for c in metrics.classes_without_ground_truth
    )
    unknown = [c for c in metrics.classes if c not in (dataset.get("classes") or [])]
    notes += tuple(f"label {c!r} was never seen in training" for c in unknown)
    document = {
        "version": 0.0,
        "dataset": {"item_count": metrics.count},
        **classification_block(metrics),
    }
    return document, notes


def evaluate_batch(
    dataset: dict[str, Any],
    truth: list[str],
    predicted: list[str],
    score: list[float] | None,
    threshold: float,
) -> Evaluation:
    """The gate: the spec's metric against ``threshold`` in the metric's direction."""
    problem = dataset["problem_type"]
    quality = dataset["quality"]
    metric, higher = quality["metric"], bool(quality["higher_is_better"])
    if not math.isfinite(threshold):
        raise DataError(f"model-quality threshold must be a finite number, got {threshold}")
    statistics, notes = statistics_for(dataset, truth, predicted, score)
    value, spread = _value(statistics, problem, metric)
    passed = math.isfinite(value) and (value >= threshold if higher else value <= threshold)
    operator = "LessThanThreshold" if higher else "GreaterThanThreshold"
    _block, key = metric_location(problem, metric)
    constraints = {
        "version": 0.0,
        _CONSTRAINT_BLOCKS[problem]: {
            key: {"threshold": float(threshold), "comparison_operator": operator}
        },
    }
    violations = []
    if not passed:
        plus_minus = f" +/- {spread:.6g}" if math.isfinite(spread) else ""
        shown = f"{value:.6g}" if math.isfinite(value) else "NaN (undefined)"
        violations.append(
            {
                "constraint_check_type": operator,
                "description": f"Metric {key} with {shown}{plus_minus} was {operator} "
                f"'{threshold:g}' ({len(truth)} rows)",
                "metric_name": key,
            }
        )
    verdict = {
        "metric": metric,
        "value": value if math.isfinite(value) else None,
        "threshold": float(threshold),
        "passed": passed,
        "higher_is_better": higher,
        "rows": len(truth),
        "problem_type": problem,
    }
    return Evaluation(statistics, constraints, violations, verdict, notes)


def failure_message(verdict: dict[str, Any]) -> str:
    """One line for a failed gate: the metric, its value, the direction, the threshold."""
    value = verdict["value"]
    shown = "undefined" if value is None else f"{value:.4f}"
    sign = "<" if verdict["higher_is_better"] else ">"
    name = "accuracy_mse_threshold" if verdict["metric"] == "mse" else "threshold"
    return (
        f"model quality below threshold: {verdict['metric']} {shown} {sign} {name} "
        f"{verdict['threshold']:g} on {verdict['rows']} labelled rows"
    )


def read_predictions(folder: Path, problem_type: str) -> tuple[list[str], list[float] | None]:
    """Predictions of the transform output under ``folder`` (input joined with output):
    the last field (regression value, multiclass label) or, for binary classification,
    the label and the positive-class probability (the last two fields)."""
    predicted: list[str] = []
    scores: list[float] = []
    binary = problem_type == "binary_classification"
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "NONE")
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.reader(handle), start=1):
                if not row:
                    continue
                if binary:
                    if len(row) < 2:
                        raise DataError(f"{path.name} line {number}: expected label,probability")
                    predicted.append(row[-2].strip())
                    try:
                        scores.append(float(row[-1]))
                    except ValueError:
                        raise DataError(
                            f"{path.name} line {number}: probability {row[-1]!r} is not a number"
                        ) from None
                else:
                    predicted.append(row[-1].strip())
    return predicted, (scores if binary else None)


def read_truth(path: Path) -> list[str]:
    """The labels of ``ground-truth.csv`` (one a line, headerless)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [row[0].strip() for row in csv.reader(handle) if row]
