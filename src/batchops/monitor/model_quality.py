"""Model quality for regression, in Model Monitor's model-quality file formats.

Why: the inference pipeline compares predictions with ground truth and fails its
model-quality step when the error is too large, which starts retraining. This module is
what that step's script (and ``batchops monitor model-quality``) calls; it needs numpy,
and polars only to read files.

Formats, from AWS's "Model quality metrics and Amazon CloudWatch monitoring" page
(docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html) and the
SageMaker model-quality monitor's files:

* statistics.json: ``{"version": 0.0, "dataset": {"item_count": n, "evaluation_time": ...},
  "regression_metrics": {"mae"|"mse"|"rmse"|"r2": {"value": v, "standard_deviation": s}}}``.
  AWS: "The standard deviation is only provided if at least 200 samples are available ...
  computed by randomly sampling 80% of the data five times, computing the metric, and
  taking the standard deviation of those results" — done here the same way, with a seeded
  generator; below 200 samples it is the string ``"NaN"`` as in AWS's examples.
* constraints.json: ``{"version": 0.0, "regression_constraints": {"mse": {"threshold": t,
  "comparison_operator": "GreaterThanThreshold"}}}``. The operator names the condition
  that *is* a violation (AWS suggests ``GreaterThanThreshold`` for error metrics and
  ``LessThanThreshold`` for scores), so "MSE must stay below ``accuracy_mse_threshold``"
  is written ``mse GreaterThanThreshold accuracy_mse_threshold``.
* constraint_violations.json: ``{"violations": [{"constraint_check_type":
  "GreaterThanThreshold", "description": "Metric mse with 4.1 +/- 0.02 was
  GreaterThanThreshold '3.0'", "metric_name": "mse"}]}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from batchops.errors import DataError
from batchops.monitor.formats import (
    CONSTRAINTS_FILE,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    as_number,
    require,
    violations_document,
    write_json,
)

METRICS = ("mae", "mse", "rmse", "r2")
OPERATORS = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
MIN_SAMPLES_FOR_STD = 200
_STD_SEED = 0x4D51


@dataclass(frozen=True)
class RegressionMetrics:
    count: int
    values: dict[str, float]
    standard_deviations: dict[str, float]  # NaN when fewer than 200 samples


def regression_metrics(predictions: np.ndarray, ground_truth: np.ndarray) -> RegressionMetrics:
    predictions = np.asarray(predictions, dtype=np.float64)
    ground_truth = np.asarray(ground_truth, dtype=np.float64)
    if predictions.shape != ground_truth.shape or predictions.ndim != 1:
        raise DataError(
            f"predictions ({predictions.size} values) and ground truth "
            f"({ground_truth.size} values) "
            "must be two columns of the same length"
        )
    if predictions.size == 0:
        raise DataError("no predictions to evaluate (expected at least one row)")
    values = _metrics(predictions, ground_truth)
    deviations = dict.fromkeys(METRICS, math.nan)
    if predictions.size >= MIN_SAMPLES_FOR_STD:
        rng = np.random.default_rng(_STD_SEED)
        size = int(0.8 * predictions.size)
        draws = [
            _metrics(predictions[index], ground_truth[index])
            for index in (rng.choice(predictions.size, size, replace=False) for _ in range(5))
        ]
        deviations = {m: float(np.std([draw[m] for draw in draws], ddof=1)) for m in METRICS}
    return RegressionMetrics(int(predictions.size), values, deviations)


def _metrics(predictions: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    errors = predictions - truth
    mse = float(np.mean(errors**2))
    spread = float(np.sum((truth - truth.mean()) ** 2))
    r2 = 1.0 - float(np.sum(errors**2)) / spread if spread > 0 else (1.0 if mse == 0 else 0.0)
    return {"mae": float(np.mean(np.abs(errors))), "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


def statistics_document(
    metrics: RegressionMetrics, evaluation_time: datetime | None = None
) -> dict[str, Any]:
    moment = (evaluation_time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "version": 0.0,
        "dataset": {"item_count": metrics.count, "evaluation_time": moment},
        "regression_metrics": {
            name: {
                "value": metrics.values[name],
                "standard_deviation": _json_number(metrics.standard_deviations[name]),
            }
            for name in METRICS
        },
    }


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else "NaN"


def constraints_document(
    threshold: float, metric: str = "mse", operator: str = "GreaterThanThreshold"
) -> dict[str, Any]:
    """One regression constraint; e.g. the pipeline's ``accuracy_mse_threshold`` on mse."""
    if metric not in METRICS:
        raise DataError(f"model-quality metric: expected one of {', '.join(METRICS)}, got {metric}")
    if operator not in OPERATORS:
        raise DataError(
            f"comparison_operator: expected one of {', '.join(OPERATORS)}, got {operator}"
        )
    if not math.isfinite(threshold):
        raise DataError(f"model-quality threshold must be a finite number, got {threshold}")
    return {
        "version": 0.0,
        "regression_constraints": {
            metric: {"threshold": float(threshold), "comparison_operator": operator}
        },
    }


def suggested_constraints(metrics: RegressionMetrics) -> dict[str, Any]:
    """Baseline values as thresholds: errors may not grow, r2 may not shrink."""
    document: dict[str, Any] = {"version": 0.0, "regression_constraints": {}}
    for name in METRICS:
        operator = "LessThanThreshold" if name == "r2" else "GreaterThanThreshold"
        document["regression_constraints"][name] = {
            "threshold": metrics.values[name],
            "comparison_operator": operator,
        }
    return document


def check_metrics(
    metrics: RegressionMetrics, constraints: dict[str, Any], where: str = "constraints"
) -> list[dict[str, str]]:
    block = require(constraints, "regression_constraints", dict, where)
    violations = []
    for name, rule in block.items():
        place = f"{where}.regression_constraints.{name}"
        if name not in METRICS or not isinstance(rule, dict):
            raise DataError(
                f"{place}: expected one of {', '.join(METRICS)} "
                "with threshold and comparison_operator"
            )
        threshold = as_number(
            require(rule, "threshold", (int, float, str), place), f"{place}.threshold"
        )
        operator = require(rule, "comparison_operator", str, place)
        if operator not in OPERATORS:
            raise DataError(
                f"{place}.comparison_operator: expected one of "
                f"{', '.join(OPERATORS)}, got {operator}"
            )
        value = metrics.values[name]
        if OPERATORS[operator](value, threshold):
            spread = metrics.standard_deviations[name]
            plus_minus = f" +/- {spread:.6g}" if math.isfinite(spread) else ""
            violations.append(
                {
                    "constraint_check_type": operator,
                    "description": f"Metric {name} with {value:.6g}{plus_minus} was "
                    f"{operator} '{threshold:g}' ({metrics.count} rows)",
                    "metric_name": name,
                }
            )
    return violations


@dataclass(frozen=True)
class ModelQualityResult:
    metrics: RegressionMetrics
    violations: tuple[dict[str, str], ...]
    files: dict[str, Path]

    @property
    def passed(self) -> bool:
        return not self.violations

    def failure_message(self) -> str:
        """One line for a failing pipeline step: which metric, its value, the threshold."""
        return "ClientError: model quality violations found: " + "; ".join(
            v["description"] for v in self.violations
        )


def evaluate_regression(
    predictions: np.ndarray,
    ground_truth: np.ndarray,
    output: Path,
    constraints: dict[str, Any],
    *,
    write_constraints: bool = True,
) -> ModelQualityResult:
    """Metrics + check; writes statistics.json, constraint_violations.json and (by
    default) the constraints.json that was applied, so the report is self-contained."""
    metrics = regression_metrics(predictions, ground_truth)
    violations = check_metrics(metrics, constraints)
    files = {"statistics": write_json(output / STATISTICS_FILE, statistics_document(metrics))}
    if write_constraints:
        files["constraints"] = write_json(output / CONSTRAINTS_FILE, constraints)
    files["constraint_violations"] = write_json(
        output / VIOLATIONS_FILE, violations_document(violations)
    )
    return ModelQualityResult(metrics, tuple(violations), files)


def evaluate_model_quality(
    predictions: Path,
    ground_truth: Path,
    threshold: float,
    output: Path,
    *,
    prediction_column: str | int | None = None,
    ground_truth_column: str | int | None = None,
    header: bool = False,
    metric: str = "mse",
) -> ModelQualityResult:
    """The inference pipeline's model-quality step: files in, verdict and files out.

    Rows are joined by position (batch transform keeps input order). By default the last
    column of each file is used: the prediction a batch transform appends, the label an
    Abalone-layout file ends with.
    """
    operator = "LessThanThreshold" if metric == "r2" else "GreaterThanThreshold"
    constraints = constraints_document(threshold, metric, operator)
    predicted = read_numeric_column(
        predictions, prediction_column, header=header, what="predictions"
    )
    truth = read_numeric_column(
        ground_truth, ground_truth_column, header=header, what="ground truth"
    )
    if predicted.size != truth.size:
        raise DataError(
            f"{predictions} has {predicted.size} rows but {ground_truth} has {truth.size}; "
            "predictions and ground truth are joined by row position and must have the same length"
        )
    return evaluate_regression(predicted, truth, output, constraints)


def read_numeric_column(
    path: Path, column: str | int | None, *, header: bool, what: str
) -> np.ndarray:
    """One numeric column of a CSV file (or of every CSV part in a directory)."""
    import polars as pl

    from batchops.monitor.reader import DatasetFormat, dataset_files, scan, translate_error

    fmt = DatasetFormat(kind="csv", header=header)
    parts = []
    for file in dataset_files(path):
        try:
            frame = scan(file, fmt, as_text=True).collect()
        except DataError:
            raise
        except Exception as exc:
            raise translate_error(exc, file) from exc
        name = _column_name(frame.columns, column, file, what)
        text = frame.get_column(name)
        values = text.cast(pl.Float64, strict=False)
        bad = (values.is_null() | ~values.is_finite().fill_null(False)).arg_true()
        if bad.len():
            row = int(bad[0]) + 1 + (1 if header else 0)
            raise DataError(
                f"{file}: {what} column {name} line {row}: "
                f"expected a number, got {text[int(bad[0])]!r}"
            )
        parts.append(values.to_numpy())
    result = np.concatenate(parts) if parts else np.empty(0)
    if result.size == 0:
        raise DataError(f"{path}: no {what} rows (expected at least one)")
    return result


def _column_name(columns: list[str], column: str | int | None, file: Path, what: str) -> str:
    if column is None:
        return columns[-1]
    if isinstance(column, int) or (
        isinstance(column, str) and column.isdigit() and column not in columns
    ):
        index = int(column)
        if not 0 <= index < len(columns):
            raise DataError(
                f"{file}: {what} column index {index} out of range "
                f"(file has {len(columns)} columns)"
            )
        return columns[index]
    if column not in columns:
        raise DataError(
            f"{file}: {what} column {column!r} not found; columns are {', '.join(columns[:20])}"
        )
    return column
