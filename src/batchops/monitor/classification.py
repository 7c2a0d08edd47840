"""Classification model quality in Model Monitor's formats: binary and multiclass.

Why: the article names "F1 score for classification" as a quality gate, and users report
that Model Monitor's multiclass metrics come out as 0.0 (sagemaker-python-sdk issue 2953).
These are the metrics of the one model-quality implementation (``model_quality``), numpy
only, so the same code runs in the evaluation and model-quality steps' containers. Every
value is checked against scikit-learn on the same predictions (``tests/monitor``).

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

Each metric is ``{"value": v, "standard_deviation": s}``; the deviation is computed as AWS
does (five random 80% samples, at least 200 rows; below that the string ``"NaN"``). What
the issue asks beyond AWS's keys is added beside them, in the same shape: ``macro_f1``,
``macro_precision``, ``macro_recall`` (both problem types), ``weighted_f1`` for binary, and
``per_class`` (precision, recall, F1 and support of every class).

Conventions (scikit-learn's): a ratio with a zero denominator is 0.0; macro and weighted
averages run over the labels that occur in the ground truth or the predictions; a class
training knew but the ground truth lacks is listed in ``classes_without_ground_truth``;
AUC with a single class in the ground truth is undefined (``"NaN"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_SAMPLES_FOR_STD = 200
_STD_SEED = 0x4D51
_CURVE_POINTS = 201
_BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}

#: the spec's metric name -> the key in the Model Monitor block, per problem type
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
    "regression": {"rmse": "rmse", "mse": "mse", "mae": "mae", "r2": "r2"},
}
BLOCKS = {
    "regression": "regression_metrics",
    "binary_classification": "binary_classification_metrics",
    "multiclass_classification": "multiclass_classification_metrics",
}


def metric_location(problem_type: str, metric: str) -> tuple[str, str]:
    """``(block, key)`` of a spec metric in a statistics document: its value is
    ``document[block][key]["value"]`` (what a pipeline's JsonGet reads)."""
    try:
        return BLOCKS[problem_type], METRIC_KEYS[problem_type][metric]
    except KeyError:
        raise ValueError(f"{metric} is not a {problem_type} metric") from None


@dataclass(frozen=True)
class ClassificationMetrics:
    problem_type: str
    count: int
    classes: tuple[str, ...]
    values: dict[str, float]
    standard_deviations: dict[str, float]
    confusion_matrix: dict[str, dict[str, int]]
    per_class: dict[str, dict[str, float]]
    curves: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    classes_without_ground_truth: tuple[str, ...] = ()


def _ratio(top: float, bottom: float) -> float:
    return float(top) / float(bottom) if bottom else 0.0


def _f_beta(precision: float, recall: float, beta: float) -> float:
    return _ratio((1 + beta**2) * precision * recall, beta**2 * precision + recall)


def _per_class(
    truth: np.ndarray, predicted: np.ndarray, labels: list[str]
) -> dict[str, dict[str, float]]:
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


def _averages(per_class: dict[str, dict[str, float]], total: int) -> dict[str, float]:
    labels = list(per_class)
    weights = np.array([per_class[c]["support"] for c in labels]) / max(total, 1)
    found: dict[str, float] = {}
    for name in ("precision", "recall", "f0_5", "f1", "f2"):
        values = np.array([per_class[c][name] for c in labels])
        found[f"macro_{name}"] = float(values.mean()) if labels else 0.0
        found[f"weighted_{name}"] = float(np.sum(values * weights))
    return found


def _auc(positive: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve: the Mann-Whitney statistic, ties counting half."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if not n_pos or not n_neg:
        return math.nan
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    ranked = score[order]
    # average ranks over ties
    boundaries = np.flatnonzero(np.diff(ranked)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(score)]))
    averages = (starts + ends + 1) / 2.0
    ranks[order] = np.repeat(averages, ends - starts)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _thinned(values: np.ndarray) -> list[float]:
    if len(values) > _CURVE_POINTS:
        values = values[
            np.unique(np.linspace(0, len(values) - 1, _CURVE_POINTS).round().astype(int))
        ]
    return [round(float(v), 6) for v in values]


def _curves(positive: np.ndarray, score: np.ndarray) -> dict[str, dict[str, list[float]]]:
    """ROC and precision-recall curves, one point per distinct score (at most 201)."""
    order = np.argsort(-score, kind="mergesort")
    sorted_positive, sorted_score = positive[order], score[order]
    last = np.concatenate((np.flatnonzero(np.diff(sorted_score)), [len(score) - 1]))
    true_positives = np.cumsum(sorted_positive)[last]
    false_positives = (last + 1) - true_positives
    n_pos, n_neg = max(int(positive.sum()), 1), max(int((~positive).sum()), 1)
    tpr = np.concatenate(([0.0], true_positives / n_pos))
    fpr = np.concatenate(([0.0], false_positives / n_neg))
    precisions = np.concatenate(([1.0], true_positives / (last + 1)))
    recalls = np.concatenate(([0.0], true_positives / n_pos))
    return {
        "receiver_operating_characteristic_curve": {
            "false_positive_rates": _thinned(fpr),
            "true_positive_rates": _thinned(tpr),
        },
        "precision_recall_curve": {
            "precisions": _thinned(precisions),
            "recalls": _thinned(recalls),
        },
    }


def _binary_values(
    truth: np.ndarray, predicted: np.ndarray, score: np.ndarray | None, positive: str
) -> dict[str, float]:
    actual, said = truth == positive, predicted == positive
    tp = float(np.sum(actual & said))
    fp = float(np.sum(~actual & said))
    fn = float(np.sum(actual & ~said))
    tn = float(np.sum(~actual & ~said))
    n = len(truth)
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    prevalence = _ratio(tp + fn, n)
    values = {
        "recall": recall,
        "precision": precision,
        "accuracy": _ratio(tp + tn, n),
        "recall_best_constant_classifier": 1.0 if tp + fn else 0.0,
        "precision_best_constant_classifier": prevalence,
        "accuracy_best_constant_classifier": prevalence,
        "true_positive_rate": recall,
        "true_negative_rate": _ratio(tn, tn + fp),
        "false_positive_rate": _ratio(fp, fp + tn),
        "false_negative_rate": _ratio(fn, fn + tp),
        "auc": _auc(actual, score) if score is not None else math.nan,
    }
    for name, beta in _BETAS.items():
        values[name] = _f_beta(precision, recall, beta)
        values[f"{name}_best_constant_classifier"] = _f_beta(
            prevalence, values["recall_best_constant_classifier"], beta
        )
    labels = sorted(set(truth.tolist()) | set(predicted.tolist()))
    averages = _averages(_per_class(truth, predicted, labels), n)
    values.update(
        {k: averages[k] for k in ("macro_f1", "macro_precision", "macro_recall", "weighted_f1")}
    )
    return values


def _multiclass_values(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    n = len(truth)
    labels = sorted(set(truth.tolist()) | set(predicted.tolist()))
    averages = _averages(_per_class(truth, predicted, labels), n)
    values = {"accuracy": _ratio(float(np.sum(truth == predicted)), n)}
    for name in ("recall", "precision", "f0_5", "f1", "f2"):
        values[f"weighted_{name}"] = averages[f"weighted_{name}"]
    majority = _ratio(max(np.unique(truth, return_counts=True)[1].tolist() or [0]), n)
    values["accuracy_best_constant_classifier"] = majority
    values["weighted_recall_best_constant_classifier"] = majority
    values["weighted_precision_best_constant_classifier"] = majority * majority
    for name, beta in _BETAS.items():
        values[f"weighted_{name}_best_constant_classifier"] = majority * _f_beta(
            majority, 1.0, beta
        )
    values.update({k: averages[k] for k in ("macro_f1", "macro_precision", "macro_recall")})
    return values


def _deviations(values_of: Any, count: int, keys: list[str]) -> dict[str, float]:
    """AWS's standard deviation: five seeded 80% samples (NaN below 200 rows)."""
    if count < MIN_SAMPLES_FOR_STD:
        return dict.fromkeys(keys, math.nan)
    rng = np.random.default_rng(_STD_SEED)
    size = int(0.8 * count)
    draws = [values_of(rng.choice(count, size, replace=False)) for _ in range(5)]
    return {k: float(np.std([d[k] for d in draws], ddof=1)) for k in keys}


def _as_labels(values: Any, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=object).astype(str)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one column of labels")
    return array


def classification_metrics(
    problem_type: str,
    truth: Any,
    predicted: Any,
    *,
    classes: list[str] | tuple[str, ...],
    positive_label: str | None = None,
    score: Any = None,
) -> ClassificationMetrics:
    """Metrics of ``predicted`` labels (and binary's positive-class ``score``) against
    ``truth``; ``classes`` are the labels the model was trained on."""
    truth_array, predicted_array = (
        _as_labels(truth, "ground truth"),
        _as_labels(predicted, "predictions"),
    )
    if truth_array.shape != predicted_array.shape:
        raise ValueError(
            f"{predicted_array.size} predictions but {truth_array.size} ground-truth labels; "
            "they are joined by row position and must have the same length"
        )
    if truth_array.size == 0:
        raise ValueError("no predictions to evaluate (expected at least one row)")
    scores = None if score is None else np.asarray(score, dtype=np.float64)
    if problem_type == "binary_classification":
        if positive_label is None:
            raise ValueError("binary classification needs the positive label")
        positive = str(positive_label)

        def values_of(index: np.ndarray) -> dict[str, float]:
            return _binary_values(
                truth_array[index],
                predicted_array[index],
                None if scores is None else scores[index],
                positive,
            )

    elif problem_type == "multiclass_classification":

        def values_of(index: np.ndarray) -> dict[str, float]:
            return _multiclass_values(truth_array[index], predicted_array[index])

    else:
        raise ValueError(f"problem type {problem_type!r} is not a classification")
    everything = np.arange(truth_array.size)
    values = values_of(everything)
    deviations = _deviations(values_of, truth_array.size, list(values))
    known = [str(c) for c in classes]
    seen = sorted((set(truth_array.tolist()) | set(predicted_array.tolist())) - set(known))
    labels = known + [c for c in seen if c not in known]
    matrix = {
        actual: {
            said: int(np.sum((truth_array == actual) & (predicted_array == said)))
            for said in labels
        }
        for actual in labels
    }
    curves = (
        _curves(truth_array == str(positive_label), scores)
        if problem_type == "binary_classification" and scores is not None
        else {}
    )
    present = set(truth_array.tolist())
    return ClassificationMetrics(
        problem_type=problem_type,
        count=int(truth_array.size),
        classes=tuple(labels),
        values=values,
        standard_deviations=deviations,
        confusion_matrix=matrix,
        per_class=_per_class(truth_array, predicted_array, labels),
        curves=curves,
        classes_without_ground_truth=tuple(c for c in known if c not in present),
    )


def _number(value: float) -> float | str:
    return value if math.isfinite(value) else "NaN"


def classification_block(metrics: ClassificationMetrics) -> dict[str, Any]:
    """The ``<problem>_classification_metrics`` block of a statistics document."""
    block: dict[str, Any] = {"confusion_matrix": metrics.confusion_matrix}
    for name, value in metrics.values.items():
        block[name] = {
            "value": _number(value),
            "standard_deviation": _number(metrics.standard_deviations[name]),
        }
    block.update(metrics.curves)
    block["per_class"] = {
        label: {k: _number(v) for k, v in scores.items()}
        for label, scores in metrics.per_class.items()
    }
    if metrics.classes_without_ground_truth:
        block["classes_without_ground_truth"] = list(metrics.classes_without_ground_truth)
    return {BLOCKS[metrics.problem_type]: block}
