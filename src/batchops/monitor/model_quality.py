"""Model quality in Model Monitor's model-quality file formats: the one implementation.

Why one: the training pipeline's evaluate step (the version's ``ModelMetrics`` and the RMSE
gate), the inference pipeline's model-quality step (the MSE gate that starts retraining),
the analyzer's ``MODEL_QUALITY`` mode and ``batchops monitor model-quality`` all compute
metrics here; the step scripts get this very file inside their step code (see
:mod:`batchops.pipelines.step_code`), and a test checks that no other copy exists.

It runs in every container that needs it — SageMaker's XGBoost image (Python 3.8/3.9) and
scikit-learn image (Python 3.9) — so it needs numpy and the standard library only, and no
syntax newer than Python 3.8.

A problem type is one :class:`ProblemType`: its ``problem_type`` name, the keys of its
blocks in the files, its scalar metrics and which way each one is better, and one
function computing them from ``(predictions, ground_truth)``. ``Regression`` is defined
here; classification types are added the same way (:data:`PROBLEM_TYPES`).

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

Edge cases, decided once: R² of a constant ground truth is 1.0 for perfect predictions and
0.0 otherwise (scikit-learn's ``r2_score`` with ``force_finite``); an empty batch, a
NaN/infinite value or predictions and labels of different lengths are a
:class:`~batchops.errors.DataError` naming what is wrong.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Sequence

import numpy as np

from batchops.errors import DataError
from batchops.monitor import classification
from batchops.monitor.formats import (
    CONSTRAINTS_FILE,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    as_number,
    require,
    violations_document,
    write_json,
)

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}
MIN_SAMPLES_FOR_STD = 200
_STD_DRAWS = 5
_STD_FRACTION = 0.8
_STD_SEED = 0x4D51

MetricFunction = Callable[[np.ndarray, np.ndarray], Dict[str, float]]


@dataclass(frozen=True)
class ProblemType:
    """How one Model Monitor ``problem_type`` is measured and written."""

    name: str  #: the analyzer's ``problem_type``, e.g. ``Regression``
    statistics_key: str  #: block of statistics.json, e.g. ``regression_metrics``
    constraints_key: str  #: block of constraints.json, e.g. ``regression_constraints``
    metrics: tuple[str, ...]  #: scalar metrics, in the order they are written
    higher_is_better: frozenset = field(default_factory=frozenset)
    compute: MetricFunction = field(default=lambda p, t: {}, repr=False)
    #: what the block holds beside the scalar metrics (confusion matrix, curves...)
    details: Callable[[np.ndarray, np.ndarray], dict[str, Any]] | None = field(
        default=None, repr=False
    )

    def violation_operator(self, metric: str) -> str:
        """The operator a threshold on ``metric`` uses: errors may not grow, scores not shrink."""
        return "LessThanThreshold" if metric in self.higher_is_better else "GreaterThanThreshold"


def _regression(predictions: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    errors = predictions - truth
    squared = float(np.sum(errors * errors))
    mse = squared / errors.size
    spread = float(np.sum((truth - truth.mean()) ** 2))
    # constant ground truth: 1.0 when perfect, else 0.0 (scikit-learn's force_finite)
    perfect = 1.0 if squared == 0 else 0.0
    r2 = 1.0 - squared / spread if spread > 0 else perfect
    return {"mae": float(np.mean(np.abs(errors))), "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


REGRESSION = ProblemType(
    name="Regression",
    statistics_key="regression_metrics",
    constraints_key="regression_constraints",
    metrics=("mae", "mse", "rmse", "r2"),
    higher_is_better=frozenset({"r2"}),
    compute=_regression,
)
#: predictions: the positive class's probability; ground truth: 1 positive, 0 negative
BINARY_CLASSIFICATION = ProblemType(
    name="BinaryClassification",
    statistics_key="binary_classification_metrics",
    constraints_key="binary_classification_constraints",
    metrics=classification.BINARY_METRICS,
    higher_is_better=frozenset(classification.BINARY_METRICS) - classification.LOWER_IS_BETTER,
    compute=classification.binary_values,
    details=classification.binary_details,
)
#: predictions and ground truth: class indices
MULTICLASS_CLASSIFICATION = ProblemType(
    name="MulticlassClassification",
    statistics_key="multiclass_classification_metrics",
    constraints_key="multiclass_classification_constraints",
    metrics=classification.MULTICLASS_METRICS,
    higher_is_better=frozenset(classification.MULTICLASS_METRICS),
    compute=classification.multiclass_values,
    details=classification.multiclass_details,
)
#: Every problem type the engine measures, by the analyzer's ``problem_type`` name.
PROBLEM_TYPES: dict[str, ProblemType] = {
    kind.name: kind for kind in (REGRESSION, BINARY_CLASSIFICATION, MULTICLASS_CLASSIFICATION)
}
#: The dataset spec's problem types (``batchops.data.spec``) by their engine names.
SPEC_PROBLEM_TYPES = {
    "regression": REGRESSION,
    "binary_classification": BINARY_CLASSIFICATION,
    "multiclass_classification": MULTICLASS_CLASSIFICATION,
}
#: The regression metric names (kept for callers that only do regression).
METRICS = REGRESSION.metrics


def problem_type(name: str) -> ProblemType:
    if name not in PROBLEM_TYPES:
        raise DataError(
            f"problem_type: expected one of {', '.join(PROBLEM_TYPES)}, got {name or 'nothing'}"
        )
    return PROBLEM_TYPES[name]


@dataclass(frozen=True)
class ModelQualityMetrics:
    """Scalar metrics of one evaluation; ``standard_deviations`` are NaN below 200 rows."""

    problem: ProblemType
    count: int
    values: dict[str, float]
    standard_deviations: dict[str, float]
    details: dict[str, Any] = field(default_factory=dict)


#: The regression flavour of :class:`ModelQualityMetrics` (same class).
RegressionMetrics = ModelQualityMetrics


def compute_metrics(
    problem: ProblemType | str, predictions: Any, ground_truth: Any
) -> ModelQualityMetrics:
    """Metrics of ``predictions`` against ``ground_truth`` with AWS's standard deviations."""
    kind = problem_type(problem) if isinstance(problem, str) else problem
    predicted = np.asarray(predictions, dtype=np.float64)
    truth = np.asarray(ground_truth, dtype=np.float64)
    if predicted.shape != truth.shape or predicted.ndim != 1:
        raise DataError(
            f"predictions ({predicted.size} values) and ground truth ({truth.size} values) "
            "must be two columns of the same length"
        )
    if predicted.size == 0:
        raise DataError("no predictions to evaluate (expected at least one row)")
    if not (np.isfinite(predicted).all() and np.isfinite(truth).all()):
        raise DataError("predictions and ground truth must be finite numbers (found NaN or inf)")
    values = kind.compute(predicted, truth)
    deviations = dict.fromkeys(kind.metrics, math.nan)
    if predicted.size >= MIN_SAMPLES_FOR_STD:
        rng = np.random.default_rng(_STD_SEED)
        size = int(_STD_FRACTION * predicted.size)
        draws = []
        for _ in range(_STD_DRAWS):
            index = rng.choice(predicted.size, size, replace=False)
            draws.append(kind.compute(predicted[index], truth[index]))
        deviations = {m: float(np.std([d[m] for d in draws], ddof=1)) for m in kind.metrics}
    details = kind.details(predicted, truth) if kind.details else {}
    return ModelQualityMetrics(kind, int(predicted.size), values, deviations, details)


def regression_metrics(predictions: Any, ground_truth: Any) -> ModelQualityMetrics:
    return compute_metrics(REGRESSION, predictions, ground_truth)


def statistics_document(
    metrics: ModelQualityMetrics, evaluation_time: datetime | None = None
) -> dict[str, Any]:
    moment = (evaluation_time or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "version": 0.0,
        "dataset": {"item_count": metrics.count, "evaluation_time": moment},
        metrics.problem.statistics_key: {
            **{
                name: {
                    "value": _json_number(metrics.values[name]),
                    "standard_deviation": _json_number(metrics.standard_deviations[name]),
                }
                for name in metrics.problem.metrics
            },
            **metrics.details,
        },
    }


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else "NaN"


def constraints_document(
    threshold: float,
    metric: str = "mse",
    operator: str | None = None,
    problem: ProblemType | str = REGRESSION,
) -> dict[str, Any]:
    """One constraint; e.g. the pipeline's ``accuracy_mse_threshold`` on mse."""
    kind = problem_type(problem) if isinstance(problem, str) else problem
    if metric not in kind.metrics:
        raise DataError(
            f"model-quality metric: expected one of {', '.join(kind.metrics)}, got {metric}"
        )
    operator = operator or kind.violation_operator(metric)
    if operator not in OPERATORS:
        raise DataError(
            f"comparison_operator: expected one of {', '.join(OPERATORS)}, got {operator}"
        )
    if not math.isfinite(threshold):
        raise DataError(f"model-quality threshold must be a finite number, got {threshold}")
    return {
        "version": 0.0,
        kind.constraints_key: {
            metric: {"threshold": float(threshold), "comparison_operator": operator}
        },
    }


def suggested_constraints(metrics: ModelQualityMetrics) -> dict[str, Any]:
    """Baseline values as thresholds: errors may not grow, scores may not shrink."""
    kind = metrics.problem
    return {
        "version": 0.0,
        kind.constraints_key: {
            name: {
                "threshold": metrics.values[name],
                "comparison_operator": kind.violation_operator(name),
            }
            for name in kind.metrics
        },
    }


def check_metrics(
    metrics: ModelQualityMetrics, constraints: Mapping[str, Any], where: str = "constraints"
) -> list:
    """The violations of ``constraints`` (Model Monitor's model-quality layout)."""
    kind = metrics.problem
    block = require(constraints, kind.constraints_key, dict, where)
    violations = []
    for name, rule in block.items():
        place = f"{where}.{kind.constraints_key}.{name}"
        if name not in kind.metrics or not isinstance(rule, dict):
            raise DataError(
                f"{place}: expected one of {', '.join(kind.metrics)} "
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
    metrics: ModelQualityMetrics
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


def evaluate(
    predictions: Any,
    ground_truth: Any,
    output: Path,
    constraints: Mapping[str, Any],
    *,
    problem: ProblemType | str = REGRESSION,
    write_constraints: bool = True,
) -> ModelQualityResult:
    """Metrics + check; writes statistics.json, constraint_violations.json and (by
    default) the constraints.json that was applied, so the report is self-contained.
    Nothing is written when the inputs or the constraints are bad."""
    metrics = compute_metrics(problem, predictions, ground_truth)
    violations = check_metrics(metrics, constraints)
    files = {"statistics": write_json(output / STATISTICS_FILE, statistics_document(metrics))}
    if write_constraints:
        files["constraints"] = write_json(output / CONSTRAINTS_FILE, dict(constraints))
    files["constraint_violations"] = write_json(
        output / VIOLATIONS_FILE, violations_document(violations)
    )
    return ModelQualityResult(metrics, tuple(violations), files)


def evaluate_regression(
    predictions: Any,
    ground_truth: Any,
    output: Path,
    constraints: Mapping[str, Any],
    *,
    write_constraints: bool = True,
) -> ModelQualityResult:
    return evaluate(
        predictions, ground_truth, output, constraints, write_constraints=write_constraints
    )


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
    constraints = constraints_document(threshold, metric)
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
    return evaluate(predicted, truth, output, constraints)


# --------------------------------------------------------------------------- reading
def read_numeric_column(
    path: Path, column: str | int | None, *, header: bool, what: str
) -> np.ndarray:
    """One numeric column of a CSV file (or of every CSV part in a directory).

    Headerless columns are named ``_c0``, ``_c1``... as Model Monitor names them; ``column``
    is a name, an index, or ``None`` for the last column. A value that is not a finite
    number is refused naming the file, line, column and value.
    """
    from batchops.monitor.reader import dataset_files

    parts = [_read_file_column(file, column, header, what) for file in dataset_files(path)]
    result = np.concatenate(parts) if parts else np.empty(0)
    if result.size == 0:
        raise DataError(f"{path}: no {what} rows (expected at least one)")
    return result


def _read_file_column(file: Path, column: str | int | None, header: bool, what: str) -> np.ndarray:
    values = []
    try:
        with file.open(newline="", encoding="utf-8") as handle:
            rows = csv.reader(handle)
            names: Sequence[str] | None = next(rows, None) if header else None
            index: int | None = None
            name = ""
            for row in rows:
                if not row:
                    continue
                if index is None:
                    index, name = _column_index(names or _positional(row), column, file, what)
                try:
                    value = float(row[index])
                except (IndexError, ValueError):
                    value = math.nan
                if not math.isfinite(value):
                    got = row[index] if index < len(row) else "nothing"
                    raise DataError(
                        f"{file}: {what} column {name} line {rows.line_num}: "
                        f"expected a number, got {got!r}"
                    )
                values.append(value)
    except UnicodeDecodeError as exc:
        raise DataError(f"{file}: not UTF-8 text ({exc.reason}); expected a CSV file") from None
    except csv.Error as exc:
        raise DataError(f"{file}: malformed CSV ({exc})") from None
    return np.asarray(values, dtype=np.float64)


def _positional(row: Sequence[str]) -> list:
    return [f"_c{i}" for i in range(len(row))]


def _column_index(
    columns: Sequence[str], column: str | int | None, file: Path, what: str
) -> tuple[int, str]:
    if column is None:
        return len(columns) - 1, columns[-1]
    if column in columns:
        return list(columns).index(str(column)), str(column)
    if isinstance(column, int) or str(column).isdigit():
        index = int(column)
        if not 0 <= index < len(columns):
            raise DataError(
                f"{file}: {what} column index {index} out of range "
                f"(file has {len(columns)} columns)"
            )
        return index, columns[index]
    raise DataError(
        f"{file}: {what} column {column!r} not found; columns are {', '.join(columns[:20])}"
    )
