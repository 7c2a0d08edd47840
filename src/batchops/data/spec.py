"""The dataset spec: one YAML file saying what the data is and how a model is judged.

Everything that depends on the data reads it — validation, the generator, both teams'
pipelines (preprocessing, the XGBoost objective, the tuning objective, the training gate,
the inference handler's output, model quality), the demo and the report — so a new table
takes one new file, not edits across the code::

    name: abalone
    problem_type: regression     # regression | binary_classification | multiclass_classification
    header: false                     # the article's layout: headerless CSV
    features:                         # in file order
      - {name: sex, type: categorical, categories: [M, F, I]}
      - {name: length, type: numeric, min: 0}
    target: {name: rings, type: numeric, integer: true, min: 0}
    positive_label: null              # binary classification: the positive class
    quality: {metric: mse, threshold: 10.0}

The files keep the article's layout: ``training-data.csv`` holds the features in spec
order and the target last, ``inference-data.csv`` the features, ``ground-truth.csv`` the
target. Optional keys: ``categories`` (a categorical column's allowed values; for a
classification target, its labels as the files write them), ``min``/``max``/``integer``
(numeric checks), ``decimals`` (how the generator rounds), ``drift`` (the drifted batch
the demo makes, in ``data generate --drift`` syntax) and ``generator`` (``generic``, or
``abalone`` for the calibrated Abalone model).

A bad spec is one :class:`~batchops.errors.ConfigError` line naming the file and the key.
The pipelines' step scripts cannot import batchops (they run in SageMaker's framework
images), so :meth:`DatasetSpec.document` is the plain-JSON form they read.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from batchops.errors import ConfigError

PROBLEM_TYPES = ("regression", "binary_classification", "multiclass_classification")
COLUMN_TYPES = ("numeric", "categorical")
GENERATORS = ("generic", "abalone")
#: the environment variable (and setting) naming the spec every command uses
SPEC_ENV = "BATCHOPS_DATASET_SPEC"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.\- ]{0,63}$")
_SPEC_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_KEYS = {
    "name",
    "problem_type",
    "header",
    "features",
    "target",
    "positive_label",
    "quality",
    "drift",
    "generator",
    "description",
}
_COLUMN_KEYS = {"name", "type", "categories", "min", "max", "integer", "decimals", "description"}


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


_REGRESSION = ("regression",)
_CLASSIFICATION = ("binary_classification", "multiclass_classification")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("rmse", _REGRESSION, False, "root mean squared error"),
        Metric("mse", _REGRESSION, False, "mean squared error"),
        Metric("mae", _REGRESSION, False, "mean absolute error"),
        Metric("r2", _REGRESSION, True, "coefficient of determination"),
        Metric("f1", ("binary_classification",), True, "F1 of the positive class"),
        Metric("f1_macro", _CLASSIFICATION, True, "unweighted mean of the classes' F1"),
        Metric("f1_weighted", _CLASSIFICATION, True, "support-weighted mean of the classes' F1"),
        Metric("accuracy", _CLASSIFICATION, True, "share of rows predicted right"),
        Metric("auc", ("binary_classification",), True, "area under the ROC curve"),
        Metric("precision", _CLASSIFICATION, True, "binary: positive class; multiclass: weighted"),
        Metric("recall", _CLASSIFICATION, True, "binary: positive class; multiclass: weighted"),
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
        wanted = _normal(key)
        for column in self.columns:
            if _normal(column) == wanted:
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


def _normal(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


# ----- loading ------------------------------------------------------------------------------
class _Where:
    """Builds the one-line errors: ``<file>: <key>: <what> (expected ..., got ...)``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: {message}")


def _got(value: Any) -> str:
    return "nothing" if value is None else repr(value)


def _text(where: _Where, key: str, value: Any, pattern: re.Pattern[str] | None = None) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise where.fail(key, f"expected text, got {_got(value)}")
    text = str(value)
    if pattern is not None and not pattern.match(text):
        raise where.fail(key, f"{text!r} is not a valid name (letters, digits, _ . - and spaces)")
    return text


def _number(where: _Where, key: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise where.fail(key, f"expected a finite number, got {_got(value)}")
    return float(value)


def _column(where: _Where, key: str, raw: Any) -> Column:
    if not isinstance(raw, dict):
        raise where.fail(key, f"expected a mapping like {{name: x, type: numeric}}, got {raw!r}")
    unknown = sorted(set(map(str, raw)) - _COLUMN_KEYS)
    if unknown:
        raise where.fail(
            f"{key}.{unknown[0]}", f"unknown key (expected {', '.join(sorted(_COLUMN_KEYS))})"
        )
    if "name" not in raw:
        raise where.fail(f"{key}.name", "required")
    if re.fullmatch(r"_c\d+", str(raw["name"])):
        raise where.fail(f"{key}.name", f"{raw['name']!r} is Model Monitor's positional name")
    name = _text(where, f"{key}.name", raw["name"], _NAME)
    kind = raw.get("type")
    if kind not in COLUMN_TYPES:
        raise where.fail(f"{key}.type", f"expected numeric or categorical, got {_got(kind)}")
    categories = raw.get("categories")
    if categories is not None:
        if kind != "categorical":
            raise where.fail(f"{key}.categories", "only a categorical column lists categories")
        if not isinstance(categories, list) or not categories:
            raise where.fail(f"{key}.categories", f"expected a non-empty list, got {categories!r}")
        values = tuple(str(c) for c in categories)
        for value in values:
            if value.strip() != value or not value or "," in value or "\n" in value:
                raise where.fail(
                    f"{key}.categories",
                    f"{value!r}: a category is non-empty text without commas or edge blanks",
                )
        if len(set(values)) != len(values):
            duplicate = next(v for v in values if values.count(v) > 1)
            raise where.fail(f"{key}.categories", f"{duplicate!r} is listed twice")
        categories = values
    numeric_keys = [k for k in ("min", "max", "integer", "decimals") if k in raw]
    if kind == "categorical" and numeric_keys:
        raise where.fail(f"{key}.{numeric_keys[0]}", "only a numeric column takes it")
    low, high = (
        _number(where, f"{key}.min", raw.get("min")),
        _number(where, f"{key}.max", raw.get("max")),
    )
    if low is not None and high is not None and not low < high:
        raise where.fail(f"{key}.max", f"must be above min ({low:g}), got {high:g}")
    integer = raw.get("integer", False)
    if not isinstance(integer, bool):
        raise where.fail(f"{key}.integer", f"expected true or false, got {integer!r}")
    decimals = raw.get("decimals")
    if decimals is not None and (
        isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 12
    ):
        raise where.fail(f"{key}.decimals", f"expected a whole number 0-12, got {decimals!r}")
    return Column(name, kind, categories, low, high, integer, decimals)


def _quality(where: _Where, raw: Any, problem_type: str) -> Quality:
    if not isinstance(raw, dict):
        raise where.fail("quality", f"expected {{metric: NAME, threshold: X}}, got {_got(raw)}")
    unknown = sorted(set(map(str, raw)) - {"metric", "threshold"})
    if unknown:
        raise where.fail(f"quality.{unknown[0]}", "unknown key (expected metric, threshold)")
    metric = raw.get("metric")
    fitting = [m for m, spec in METRICS.items() if problem_type in spec.problem_types]
    if metric not in METRICS:
        raise where.fail(
            "quality.metric",
            f"expected one of {', '.join(METRICS)}, got {_got(metric)}",
        )
    spec = METRICS[str(metric)]
    if problem_type not in spec.problem_types:
        kind = "a regression" if spec.problem_types == _REGRESSION else "a classification"
        if spec.problem_types == ("binary_classification",):
            kind = "a binary-classification"
        raise where.fail(
            "quality.metric",
            f"{metric} is {kind} metric; {problem_type} takes {', '.join(fitting)}",
        )
    threshold = _number(where, "quality.threshold", raw.get("threshold"))
    if threshold is None and metric != "mse":
        raise where.fail(
            "quality.threshold",
            f"required for {metric} (only mse defaults to accuracy_mse_threshold)",
        )
    if threshold is not None:
        bounded = problem_type != "regression"
        if bounded and not 0 <= threshold <= 1:
            raise where.fail("quality.threshold", f"{metric} is in [0, 1], got {threshold:g}")
        if metric in ("rmse", "mse", "mae") and threshold <= 0:
            raise where.fail("quality.threshold", f"{metric} must stay above 0, got {threshold:g}")
        if metric == "r2" and threshold > 1:
            raise where.fail("quality.threshold", f"r2 is at most 1, got {threshold:g}")
    return Quality(str(metric), threshold)


def parse_spec(document: Any, path: Path) -> DatasetSpec:
    """Validate a parsed YAML document; every problem is one line naming file and key."""
    where = _Where(path)
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a mapping (name, problem_type, features, target...)")
    unknown = sorted(set(map(str, document)) - _KEYS)
    if unknown:
        raise where.fail(unknown[0], f"unknown key (expected {', '.join(sorted(_KEYS))})")
    for key in ("name", "problem_type", "features", "target", "quality"):
        if document.get(key) is None:
            raise where.fail(key, "required")
    name = _text(where, "name", document["name"])
    if not _SPEC_NAME.match(name):
        raise where.fail("name", f"{name!r}: use lower-case letters, digits and '-' (max 40)")
    problem_type = document["problem_type"]
    if problem_type not in PROBLEM_TYPES:
        raise where.fail(
            "problem_type", f"expected one of {', '.join(PROBLEM_TYPES)}, got {_got(problem_type)}"
        )
    header = document.get("header", False)
    if not isinstance(header, bool):
        raise where.fail("header", f"expected true or false, got {header!r}")
    raw_features = document["features"]
    if not isinstance(raw_features, list) or not raw_features:
        raise where.fail("features", "expected a non-empty list of {name, type} in file order")
    features = tuple(_column(where, f"features[{i}]", f) for i, f in enumerate(raw_features))
    target = _column(where, "target", document["target"])
    seen: dict[str, str] = {}
    for key, column in [(f"features[{i}]", f) for i, f in enumerate(features)] + [
        ("target", target)
    ]:
        normal = _normal(column.name)
        if normal in seen:
            raise where.fail(f"{key}.name", f"{column.name!r} is also {seen[normal]}")
        seen[normal] = f"{key}.name"
    _check_target(where, problem_type, target)
    positive = _positive_label(where, problem_type, target, document.get("positive_label"))
    quality = _quality(where, document["quality"], problem_type)
    generator = document.get("generator", "generic")
    if generator not in GENERATORS:
        raise where.fail("generator", f"expected one of {', '.join(GENERATORS)}, got {generator!r}")
    drift = document.get("drift")
    if drift is not None and not isinstance(drift, str):
        raise where.fail("drift", f"expected text like 'height*1.6,rings+4', got {drift!r}")
    spec = DatasetSpec(
        name=name,
        problem_type=str(problem_type),
        features=features,
        target=target,
        quality=quality,
        header=header,
        positive_label=positive,
        drift=drift,
        generator=str(generator),
        path=path,
    )
    if drift:
        from batchops.data.generate import parse_drift
        from batchops.errors import DataError

        try:
            parse_drift(drift, spec)
        except DataError as exc:
            raise where.fail("drift", str(exc).removeprefix("--drift ")) from None
    return spec


def _check_target(where: _Where, problem_type: str, target: Column) -> None:
    if problem_type == "regression":
        if target.type != "numeric":
            raise where.fail("target.type", "a regression target is numeric, got categorical")
        return
    if target.type != "categorical":
        raise where.fail(
            "target.type", f"a {problem_type} target is categorical (its labels), got numeric"
        )
    labels = target.categories
    if labels is None:
        return
    if len(labels) < 2:
        raise where.fail(
            "target.categories", f"a classification target needs at least 2 classes, got {labels}"
        )
    if problem_type == "binary_classification" and len(labels) != 2:
        raise where.fail(
            "target.categories",
            f"binary_classification has exactly 2 classes, got {len(labels)} "
            f"({', '.join(labels)}); use multiclass_classification",
        )


def _positive_label(where: _Where, problem_type: str, target: Column, raw: Any) -> str | None:
    if problem_type != "binary_classification":
        if raw is not None:
            raise where.fail("positive_label", f"only binary_classification takes one, got {raw!r}")
        return None
    if raw is None:
        raise where.fail(
            "positive_label",
            "binary_classification names its positive class (e.g. positive_label: 1)",
        )
    label = _text(where, "positive_label", raw)
    if target.categories is not None and label not in target.categories:
        raise where.fail(
            "positive_label",
            f"{label!r} is not one of the target's categories ({', '.join(target.categories)})",
        )
    return label


def load_spec(path: Path | str) -> DatasetSpec:
    """Read and validate a spec file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: dataset spec not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; expected a dataset spec YAML file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}{where}: YAML syntax error: {problem}") from None
    return parse_spec(document, path)


def examples_dir() -> Path:
    """``examples/datasets`` of the checkout batchops runs from (or is installed from)."""
    from batchops.config import find_config_dir

    return find_config_dir().parent / "examples" / "datasets"


def default_spec_path() -> Path:
    """``BATCHOPS_DATASET_SPEC`` or the Abalone example (the article's dataset)."""
    explicit = os.environ.get(SPEC_ENV)
    return Path(explicit) if explicit else examples_dir() / "abalone" / "dataset.yaml"


def current_spec() -> DatasetSpec:
    """The spec every command and pipeline build of this process uses."""
    return load_spec(default_spec_path())
