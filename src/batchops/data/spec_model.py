"""What a dataset spec holds: its columns, problem type, metric catalog and derived facts.

The types of :mod:`batchops.data.spec` (which reads and selects spec files); no I/O here,
so every module that only needs the shapes imports this one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROBLEM_TYPES = ("regression", "binary_classification", "multiclass_classification")
COLUMN_TYPES = ("numeric", "categorical")
GENERATORS = ("generic", "abalone")


@dataclass(frozen=True)
class Metric:
    """A model-quality metric: which problems it fits and which way is better."""

    name: str
    problem_types: tuple[str, ...]
    higher_is_better: bool
    summary: str

    @property
    def direction(self) -> str:
        return "higher" if self.higher_is_better else "lower"

    def passes(self, value: float, threshold: float) -> bool:
        """Whether ``value`` meets ``threshold`` (a threshold met exactly passes)."""
        return value >= threshold if self.higher_is_better else value <= threshold


REGRESSION_ONLY = ("regression",)
CLASSIFICATION_TYPES = ("binary_classification", "multiclass_classification")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("rmse", REGRESSION_ONLY, False, "root mean squared error"),
        Metric("mse", REGRESSION_ONLY, False, "mean squared error"),
        Metric("mae", REGRESSION_ONLY, False, "mean absolute error"),
        Metric("r2", REGRESSION_ONLY, True, "coefficient of determination"),
        Metric("f1", ("binary_classification",), True, "F1 of the positive class"),
        Metric("f1_macro", CLASSIFICATION_TYPES, True, "unweighted mean of the classes' F1"),
        Metric(
            "f1_weighted", CLASSIFICATION_TYPES, True, "support-weighted mean of the classes' F1"
        ),
        Metric("accuracy", CLASSIFICATION_TYPES, True, "share of rows predicted right"),
        Metric("auc", ("binary_classification",), True, "area under the ROC curve"),
        Metric(
            "precision", CLASSIFICATION_TYPES, True, "binary: positive class; multiclass: weighted"
        ),
        Metric(
            "recall", CLASSIFICATION_TYPES, True, "binary: positive class; multiclass: weighted"
        ),
    )
}
#: the XGBoost objective and the evaluation metric early stopping watches
OBJECTIVES = {
    "regression": ("reg:squarederror", "rmse"),
    "binary_classification": ("binary:logistic", "logloss"),
    "multiclass_classification": ("multi:softprob", "mlogloss"),
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    categories: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    integer: bool = False
    decimals: int | None = None

    @property
    def categorical(self) -> bool:
        return self.type == "categorical"

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"name": self.name, "type": self.type}
        if self.categories is not None:
            doc["categories"] = list(self.categories)
        if self.type == "numeric":
            doc.update(min=self.min, max=self.max, integer=self.integer)
        return doc


@dataclass(frozen=True)
class Quality:
    metric: str
    threshold: float | None  #: None: mse takes ``accuracy_mse_threshold``

    @property
    def spec(self) -> Metric:
        return METRICS[self.metric]

    def resolved_threshold(self, accuracy_mse_threshold: float) -> float:
        """The threshold in force: the spec's, else (mse only) ``accuracy_mse_threshold``."""
        return float(self.threshold if self.threshold is not None else accuracy_mse_threshold)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    problem_type: str
    features: tuple[Column, ...]
    target: Column
    quality: Quality
    header: bool = False
    positive_label: str | None = None
    drift: str | None = None
    generator: str = "generic"
    path: Path | None = field(default=None, compare=False)

    # ----- derived ---------------------------------------------------------------------
    @property
    def classification(self) -> bool:
        return self.problem_type != "regression"

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def columns(self) -> tuple[str, ...]:
        """The training layout: the features in file order, the target last."""
        return (*self.feature_names, self.target.name)

    @property
    def monitor_names(self) -> dict[str, str]:
        """Model Monitor's names of the headerless columns: ``_c3`` -> the fourth column."""
        return {f"_c{i}": name for i, name in enumerate(self.columns)}

    @property
    def labels(self) -> tuple[str, ...] | None:
        """A classification target's labels when the spec lists them (the order is kept)."""
        return self.target.categories if self.classification else None

    @property
    def objective(self) -> tuple[str, str]:
        return OBJECTIVES[self.problem_type]

    def column(self, name: str) -> Column:
        for column in (*self.features, self.target):
            if column.name == name:
                return column
        raise KeyError(name)

    def resolve_column(self, name: str) -> str:
        """A column's name (case and ``-``/space insensitive) or Model Monitor name."""
        key = name.strip()
        monitor = self.monitor_names
        if key in monitor:
            return monitor[key]
        wanted = normal_name(key)
        for column in self.columns:
            if normal_name(column) == wanted:
                return column
        raise ValueError(
            f"unknown column {name!r}; expected one of {', '.join(self.columns)} "
            f"or _c0.._c{len(self.columns) - 1}"
        )

    def threshold(self, accuracy_mse_threshold: float) -> float:
        return self.quality.resolved_threshold(accuracy_mse_threshold)

    def document(self, accuracy_mse_threshold: float | None = None) -> dict[str, Any]:
        """The plain-JSON contract the step scripts read (no batchops inside containers)."""
        metric = self.quality.spec
        threshold = self.quality.threshold
        if threshold is None and accuracy_mse_threshold is not None:
            threshold = float(accuracy_mse_threshold)
        objective, eval_metric = self.objective
        return {
            "version": 1,
            "name": self.name,
            "problem_type": self.problem_type,
            "header": self.header,
            "features": [f.document() for f in self.features],
            "target": self.target.document(),
            "positive_label": self.positive_label,
            "quality": {
                "metric": metric.name,
                "threshold": threshold,
                "higher_is_better": metric.higher_is_better,
            },
            "objective": objective,
            "eval_metric": eval_metric,
        }

    def digest(self) -> str:
        """A hash of what the spec says (not of its formatting): part of build cache keys."""
        text = json.dumps(self.document(), sort_keys=True) + f"|{self.drift}|{self.generator}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def normal_name(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")
