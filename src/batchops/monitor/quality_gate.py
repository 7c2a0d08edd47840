"""The model-quality gate of a dataset spec: which metric, which documents, pass or fail.

Both teams' steps judge a model the same way — the training evaluation on the test split,
the inference pipeline's ``CheckModelQuality`` on a labelled batch — so this module takes
the spec's document (``dataset.json``, carried by the model), the labels and predictions,
and the threshold in force, and returns Model Monitor's three model-quality documents
(statistics with the problem type's block, constraints with the spec's metric, violations)
and the lifecycle contract's verdict (``quality.json``: metric, value, threshold, passed).
It encodes labels as the engine takes them and decodes its class indices back into the
labels; every metric, deviation, document and check is the one implementation's
(:mod:`batchops.monitor.model_quality`).

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
from batchops.monitor import model_quality as engine
from batchops.monitor.classification import metric_location


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


def _labels(values: Any) -> list[str]:
    return [str(v) for v in (values.tolist() if hasattr(values, "tolist") else values)]


def encode(
    dataset: dict[str, Any], truth: Any, predicted: Any, score: Any
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(engine predictions, engine ground truth, labels by class index) of a batch."""
    problem = dataset["problem_type"]
    if problem == "regression":
        try:
            return (
                np.asarray(predicted, dtype=np.float64),
                np.asarray(truth, dtype=np.float64),
                [],
            )
        except ValueError as exc:
            raise DataError(f"regression predictions and labels are numbers ({exc})") from None
    truth_labels, predicted_labels = _labels(truth), _labels(predicted)
    if len(truth_labels) != len(predicted_labels):
        raise DataError(
            f"{len(predicted_labels)} predictions but {len(truth_labels)} ground-truth labels; "
            "they are joined by row position and must have the same length"
        )
    classes = [str(c) for c in dataset.get("classes") or []]
    unknown = sorted((set(truth_labels) | set(predicted_labels)) - set(classes))
    labels = classes + unknown
    if problem == "binary_classification":
        if score is None:
            raise DataError("binary classification needs the positive class's probability")
        positive = str(dataset["positive_label"])
        actual = np.array([1.0 if t == positive else 0.0 for t in truth_labels])
        said = np.array([p == positive for p in predicted_labels], dtype=bool)
        # the label decides: a probability printed rounded (0.49996 -> "0.5000") keeps it
        scores = np.asarray(score, dtype=np.float64)
        scores = np.where(said, np.maximum(scores, 0.5), np.minimum(scores, np.nextafter(0.5, 0)))
        return scores, actual, labels
    index = {label: i for i, label in enumerate(labels)}
    return (
        np.array([index[p] for p in predicted_labels], dtype=np.float64),
        np.array([index[t] for t in truth_labels], dtype=np.float64),
        labels,
    )


def _named(block: dict[str, Any], dataset: dict[str, Any], labels: list[str]) -> None:
    """The engine's class indices (``"0"``, ``"1"``...) in a block replaced by labels."""
    if dataset["problem_type"] == "binary_classification":
        positive = str(dataset["positive_label"])
        negative = next((c for c in labels if c != positive), "not " + positive)
        names = {"0": negative, "1": positive}
    else:
        names = {str(i): label for i, label in enumerate(labels)}
    for key in ("confusion_matrix", "per_class"):
        if key in block:
            block[key] = {
                names.get(a, a): (
                    {names.get(p, p): n for p, n in row.items()}
                    if key == "confusion_matrix"
                    else row
                )
                for a, row in block[key].items()
            }


def evaluate_batch(
    dataset: dict[str, Any],
    truth: Any,
    predicted: Any,
    score: Any,
    threshold: float | None,
) -> Evaluation:
    """The gate: the spec's metric against ``threshold`` in the metric's direction
    (``None``: the statistics only, and a verdict without a threshold)."""
    problem = dataset["problem_type"]
    kind = engine.SPEC_PROBLEM_TYPES[problem]
    metric = dataset["quality"]["metric"]
    _block, key = metric_location(problem, metric)
    predictions, actual, labels = encode(dataset, truth, predicted, score)
    metrics = engine.compute_metrics(kind, predictions, actual)
    statistics = engine.statistics_document(metrics)
    block = statistics[kind.statistics_key]
    notes: list[str] = []
    if labels:
        _named(block, dataset, labels)
        present = set(_labels(truth))
        missing = [c for c in dataset.get("classes") or [] if str(c) not in present]
        if missing:
            block["classes_without_ground_truth"] = missing
        notes += [f"class {c!r} has no row in the ground truth (its recall is 0)" for c in missing]
        known = {str(c) for c in dataset.get("classes") or []}
        notes += [f"label {c!r} was never seen in training" for c in labels if c not in known]
    value = metrics.values[key]
    distribution = target_shift(dataset, truth)
    if distribution:
        notes += distribution.pop("notes")
    if threshold is None:
        verdict = _verdict(dataset, metric, value, (None, None), metrics.count)
        return Evaluation(statistics, {}, [], verdict, tuple(notes))
    constraints = engine.constraints_document(float(threshold), key, problem=kind)
    violations = engine.check_metrics(metrics, constraints)
    if not math.isfinite(value):  # undefined (AUC of one class): cannot pass
        violations.append(
            {
                "constraint_check_type": kind.violation_operator(key),
                "description": f"Metric {key} is undefined on this batch "
                f"({metrics.count} rows): it cannot meet '{threshold:g}'",
                "metric_name": key,
            }
        )
    verdict = _verdict(dataset, metric, value, (float(threshold), not violations), metrics.count)
    if distribution:
        verdict["target_distribution"] = distribution
    return Evaluation(statistics, constraints, violations, verdict, tuple(notes))


def target_shift(dataset: dict[str, Any], truth: Any) -> dict[str, Any] | None:
    """The batch's ground truth beside the training target (``target_distribution`` of the
    model's spec document): class shares, or mean and spread. None when the model has none."""
    training = dataset.get("target_distribution")
    if not training:
        return None
    labels = _labels(truth)
    if dataset["problem_type"] == "regression":
        values = np.asarray(labels, dtype=np.float64)
        batch = {"mean": round(float(values.mean()), 6), "std": round(float(values.std()), 6)}
        spread = float(training.get("std") or 0.0)
        shift = abs(batch["mean"] - float(training["mean"]))
        notes = []
        if spread and shift > 2 * spread:
            notes.append(
                f"the ground truth's mean {batch['mean']:g} is {shift / spread:.1f} training "
                f"standard deviations from the training target's {training['mean']:g}"
            )
        return {"training": training, "batch": batch, "notes": notes}
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    shares = {c: round(n / len(labels), 6) for c, n in sorted(counts.items())}
    before = training.get("shares", {})
    worst = max(
        (abs(shares.get(c, 0.0) - before.get(c, 0.0)), c) for c in set(shares) | set(before)
    )
    notes = []
    if worst[0] > 0.2:
        notes.append(
            f"class {worst[1]!r} is {shares.get(worst[1], 0.0):.0%} of the ground truth, "
            f"{before.get(worst[1], 0.0):.0%} of the training target"
        )
    return {"training": {"shares": before}, "batch": {"shares": shares}, "notes": notes}


def _verdict(
    dataset: dict[str, Any],
    metric: str,
    value: float,
    outcome: tuple[float | None, bool | None],
    rows: int,
) -> dict[str, Any]:
    threshold, passed = outcome
    return {
        "metric": metric,
        "value": value if math.isfinite(value) else None,
        "threshold": threshold,
        "passed": passed,
        "higher_is_better": bool(dataset["quality"]["higher_is_better"]),
        "rows": rows,
        "problem_type": dataset["problem_type"],
    }


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
                field = row[-2] if binary and len(row) > 1 else row[-1]
                if binary:
                    scores.append(_number(path, number, row[-1], "probability"))
                elif problem_type == "regression":
                    _number(path, number, field, "prediction")
                predicted.append(field.strip())
    return predicted, (scores if binary else None)


def read_truth(path: Path, problem_type: str) -> list[str]:
    """The labels of ``ground-truth.csv`` (one a line, headerless); numbers for regression."""
    labels: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            if not row:
                continue
            if problem_type == "regression":
                _number(path, number, row[0], "label")
            labels.append(row[0].strip())
    return labels


def _number(path: Path, number: int, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DataError(f"{path.name} line {number}: the {what} {text!r} is not a finite number")
    return value
