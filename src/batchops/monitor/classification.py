"""Classification metrics of the one model-quality implementation (binary, multiclass).

Why: the article names "F1 score for classification" as a quality gate, and users report
that Model Monitor's multiclass metrics come out as 0.0 (sagemaker-python-sdk issue 2953).
These functions are the classification problem types of
:mod:`batchops.monitor.model_quality` (``BinaryClassification``,
``MulticlassClassification`` in its ``PROBLEM_TYPES``): the engine calls them, computes
AWS's standard deviations around them and writes the documents. numpy only, Python 3.8
compatible: they run inside the step containers as part of the step code. Every value is
checked against scikit-learn on the same predictions (``tests/monitor``).

Inputs are numbers, as Model Monitor's analyzer takes them: binary classification gets the
positive class's probability and a 0/1 ground truth (the prediction is positive at 0.5 or
above — the inference handler's rule); multiclass gets predicted and true class indices.

Layouts, from AWS's "Model quality metrics" page (model-monitor-model-quality-metrics):

* ``binary_classification_metrics``: ``confusion_matrix`` (``{actual: {predicted: n}}``),
  ``recall``, ``precision``, ``accuracy``, the true/false positive/negative rates,
  ``receiver_operating_characteristic_curve`` (``false_positive_rates``,
  ``true_positive_rates``), ``precision_recall_curve`` (``precisions``, ``recalls``),
  ``auc``, ``f0_5``, ``f1``, ``f2`` and the ``*_best_constant_classifier`` baselines (the
  classifier that always predicts the positive class, as AWS's example shows);
* ``multiclass_classification_metrics``: ``confusion_matrix``, ``accuracy``,
  ``weighted_recall``, ``weighted_precision``, ``weighted_f0_5``, ``weighted_f1``,
  ``weighted_f2`` and their ``*_best_constant_classifier`` baselines (always the majority
  class).

What the issue asks beyond AWS's keys is added beside them, in the same shape:
``macro_f1``, ``macro_precision``, ``macro_recall`` (both), ``weighted_f1`` (binary) and
``per_class`` (precision, recall, F1 and support of every class, multiclass).

Conventions (scikit-learn's): a ratio with a zero denominator is 0.0; macro and weighted
averages run over the classes that occur in the ground truth or the predictions; AUC with
a single class in the ground truth is undefined (NaN, written ``"NaN"``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

_CURVE_POINTS = 201
_BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}

BINARY_METRICS = (
    "recall",
    "precision",
    "accuracy",
    "recall_best_constant_classifier",
    "precision_best_constant_classifier",
    "accuracy_best_constant_classifier",
    "true_positive_rate",
    "true_negative_rate",
    "false_positive_rate",
    "false_negative_rate",
    "auc",
    "f0_5",
    "f1",
    "f2",
    "f0_5_best_constant_classifier",
    "f1_best_constant_classifier",
    "f2_best_constant_classifier",
    "macro_f1",
    "macro_precision",
    "macro_recall",
    "weighted_f1",
)
MULTICLASS_METRICS = (
    "accuracy",
    "weighted_recall",
    "weighted_precision",
    "weighted_f0_5",
    "weighted_f1",
    "weighted_f2",
    "accuracy_best_constant_classifier",
    "weighted_recall_best_constant_classifier",
    "weighted_precision_best_constant_classifier",
    "weighted_f0_5_best_constant_classifier",
    "weighted_f1_best_constant_classifier",
    "weighted_f2_best_constant_classifier",
    "macro_f1",
    "macro_precision",
    "macro_recall",
)
#: the only classification metrics where lower is better
LOWER_IS_BETTER = frozenset({"false_positive_rate", "false_negative_rate"})

#: the dataset spec's metric name -> its key in the problem type's block
METRIC_KEYS = {
    "binary_classification": {
        "f1": "f1",
        "f1_macro": "macro_f1",
        "f1_weighted": "weighted_f1",
        "accuracy": "accuracy",
        "auc": "auc",
        "precision": "precision",
        "recall": "recall",
    },
    "multiclass_classification": {
        "f1_macro": "macro_f1",
        "f1_weighted": "weighted_f1",
        "accuracy": "accuracy",
        "precision": "weighted_precision",
        "recall": "weighted_recall",
    },
}
BLOCKS = {
    "regression": "regression_metrics",
    "binary_classification": "binary_classification_metrics",
    "multiclass_classification": "multiclass_classification_metrics",
}
_REGRESSION_KEYS = ("rmse", "mse", "mae", "r2")


def metric_location(problem_type: str, metric: str) -> tuple[str, str]:
    """``(block, key)`` of a spec metric in a statistics document: its value is
    ``document[block][key]["value"]`` (what a pipeline's JsonGet reads)."""
    if problem_type == "regression" and metric in _REGRESSION_KEYS:
        return BLOCKS[problem_type], metric
    try:
        return BLOCKS[problem_type], METRIC_KEYS[problem_type][metric]
    except KeyError:
        raise ValueError(f"{metric} is not a {problem_type} metric") from None


def _ratio(top: float, bottom: float) -> float:
    return float(top) / float(bottom) if bottom else 0.0


def _f_beta(precision: float, recall: float, beta: float) -> float:
    return _ratio((1 + beta**2) * precision * recall, beta**2 * precision + recall)


def per_class(predicted: np.ndarray, truth: np.ndarray, labels: list[Any]) -> dict[Any, dict]:
    """Precision, recall, F-scores and support of each of ``labels``."""
    result = {}
    for label in labels:
        actual, said = truth == label, predicted == label
        hits = float(np.sum(actual & said))
        precision = _ratio(hits, float(np.sum(said)))
        recall = _ratio(hits, float(np.sum(actual)))
        scores = {name: _f_beta(precision, recall, beta) for name, beta in _BETAS.items()}
        result[label] = {
            "precision": precision,
            "recall": recall,
            **scores,
            "support": float(np.sum(actual)),
        }
    return result


def _averages(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    labels = sorted(set(truth.tolist()) | set(predicted.tolist()))
    scores = per_class(predicted, truth, labels)
    weights = np.array([scores[c]["support"] for c in labels]) / max(len(truth), 1)
    found: dict[str, float] = {}
    for name in ("precision", "recall", "f0_5", "f1", "f2"):
        values = np.array([scores[c][name] for c in labels])
        found[f"macro_{name}"] = float(values.mean()) if labels else 0.0
        found[f"weighted_{name}"] = float(np.sum(values * weights))
    return found


def _auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, ties counting half."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    ranked = score[order]
    boundaries = np.flatnonzero(np.diff(ranked)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(score)]))
    ranks = np.empty(len(score), dtype=np.float64)
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # ties: mean rank
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_values(score: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Every scalar binary metric of positive-class probabilities against 0/1 truth."""
    actual, said = truth >= 0.5, score >= 0.5
    tp = float(np.sum(actual & said))
    fp = float(np.sum(~actual & said))
    fn = float(np.sum(actual & ~said))
    tn = float(np.sum(~actual & ~said))
    n = len(truth)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    prevalence = _ratio(tp + fn, n)
    constant_recall = 1.0 if tp + fn else 0.0
    values = {
        "recall": recall,
        "precision": precision,
        "accuracy": _ratio(tp + tn, n),
        "recall_best_constant_classifier": constant_recall,
        "precision_best_constant_classifier": prevalence,
        "accuracy_best_constant_classifier": prevalence,
        "true_positive_rate": recall,
        "true_negative_rate": _ratio(tn, tn + fp),
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, fn + tp),
        "auc": _auc(actual, score),
    }
    for name, beta in _BETAS.items():
        values[name] = _f_beta(precision, recall, beta)
        values[f"{name}_best_constant_classifier"] = _f_beta(prevalence, constant_recall, beta)
    averages = _averages(said.astype(np.int64), actual.astype(np.int64))
    for name in ("macro_f1", "macro_precision", "macro_recall", "weighted_f1"):
        values[name] = averages[name]
    return {name: values[name] for name in BINARY_METRICS}


def multiclass_values(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Every scalar multiclass metric of predicted against true class indices."""
    n = len(truth)
    averages = _averages(predicted, truth)
    values = {"accuracy": _ratio(float(np.sum(truth == predicted)), n)}
    for name in ("recall", "precision", "f0_5", "f1", "f2"):
        values[f"weighted_{name}"] = averages[f"weighted_{name}"]
    _classes, counts = np.unique(truth, return_counts=True)
    majority = _ratio(float(counts.max()) if counts.size else 0.0, n)
    values["accuracy_best_constant_classifier"] = majority
    values["weighted_recall_best_constant_classifier"] = majority
    values["weighted_precision_best_constant_classifier"] = majority * majority
    for name, beta in _BETAS.items():
        values[f"weighted_{name}_best_constant_classifier"] = majority * _f_beta(
            majority, 1.0, beta
        )
    for name in ("macro_f1", "macro_precision", "macro_recall"):
        values[name] = averages[name]
    return {name: values[name] for name in MULTICLASS_METRICS}


def _thinned(values: np.ndarray) -> list[float]:
    if len(values) > _CURVE_POINTS:
        picks = np.unique(np.linspace(0, len(values) - 1, _CURVE_POINTS).round().astype(int))
        values = values[picks]
    return [round(float(v), 6) for v in values]


def _confusion(predicted: np.ndarray, truth: np.ndarray, labels: list[int]) -> dict:
    return {
        str(a): {str(p): int(np.sum((truth == a) & (predicted == p))) for p in labels}
        for a in labels
    }


def binary_details(score: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """The confusion matrix (``"0"``/``"1"``, as AWS's example) and the two curves, one
    point per distinct score (at most 201)."""
    actual = truth >= 0.5
    order = np.argsort(-score, kind="mergesort")
    sorted_positive, sorted_score = actual[order], score[order]
    last = np.concatenate((np.flatnonzero(np.diff(sorted_score)), [len(score) - 1]))
    true_positives = np.cumsum(sorted_positive)[last]
    false_positives = (last + 1) - true_positives
    n_pos, n_neg = max(int(actual.sum()), 1), max(int((~actual).sum()), 1)
    return {
        "confusion_matrix": _confusion((score >= 0.5).astype(int), actual.astype(int), [0, 1]),
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": _thinned(np.concatenate(([0.0], false_positives / n_neg))),
            "true_positive_rates": _thinned(np.concatenate(([0.0], true_positives / n_pos))),
        },
        "precision_recall_curve": {
            "precisions": _thinned(np.concatenate(([1.0], true_positives / (last + 1)))),
            "recalls": _thinned(np.concatenate(([0.0], true_positives / n_pos))),
        },
    }


def multiclass_details(predicted: np.ndarray, truth: np.ndarray) -> dict[str, Any]:
    """The confusion matrix and the per-class figures, keyed by class index."""
    labels = sorted({int(v) for v in np.concatenate((truth, predicted)).tolist()})
    scores = per_class(predicted, truth, labels)
    return {
        "confusion_matrix": _confusion(predicted, truth, labels),
        "per_class": {str(c): scores[c] for c in labels},
    }
