"""Reading and validating a dataset spec file: one line naming the file and the key.

The spec itself (what it holds, what it derives) is :mod:`batchops.data.spec`; this module
turns a YAML document into one, refusing an unknown problem type, metric or column type, a
metric that does not fit the problem type, a target with one class, a binary target with
three, duplicate or Model-Monitor-positional column names, and every malformed value.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import yaml

from batchops.data.spec_model import (
    COLUMN_TYPES,
    GENERATORS,
    METRICS,
    PROBLEM_TYPES,
    REGRESSION_ONLY,
    Column,
    DatasetSpec,
    Quality,
    normal_name,
)
from batchops.errors import ConfigError

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
        kind = "a regression" if spec.problem_types == REGRESSION_ONLY else "a classification"
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
        normal = normal_name(column.name)
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
        from batchops.data.drift_ops import parse_drift
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


def read_spec(path: Path) -> DatasetSpec:
    """Read and validate a spec file."""
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
