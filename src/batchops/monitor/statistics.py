"""statistics.json: written from a profile, read back (ours or AWS's) for the checks.

The layout is AWS's "Schema for Statistics" (see :mod:`batchops.monitor.formats`). Numeric
features carry the KLL sketch itself plus 10 equal-width buckets between min and max whose
counts are read off the sketch's CDF — the same way a KLL-based analyzer materialises
buckets. String features carry one categorical bucket per value (most frequent first).

Reading tolerates what AWS's analyzer writes: ``version`` as ``0`` or ``0.0``, counts as
floats, numbers as the strings ``"NaN"``; a numeric feature without a sketch falls back to
its buckets (mass at each bucket's midpoint) so drift can still be measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from batchops.errors import DataError
from batchops.monitor.formats import (
    FRACTIONAL,
    INFERRED_TYPES,
    INTEGRAL,
    KLL_BUCKETS,
    NUMERIC_TYPES,
    STRING,
    as_number,
    check_format_version,
    require,
)
from batchops.monitor.kll import KllSketch
from batchops.monitor.profile import ColumnProfile, DatasetProfile


# --------------------------------------------------------------------------- writing
def statistics_document(profile: DatasetProfile) -> dict[str, Any]:
    return {
        "version": 0.0,
        "dataset": {"item_count": profile.item_count},
        "features": [feature_statistics(column) for column in profile.columns.values()],
    }


def feature_statistics(column: ColumnProfile) -> dict[str, Any]:
    kind = column.inferred_type
    common = {"num_present": column.present, "num_missing": column.missing}
    if kind in NUMERIC_TYPES:
        return {
            "name": column.name,
            "inferred_type": kind,
            "numerical_statistics": {
                "common": common,
                "mean": column.mean,
                "sum": column.total,
                "std_dev": column.std_dev,
                "min": column.minimum,
                "max": column.maximum,
                "distribution": {
                    "kll": {
                        "buckets": kll_buckets(
                            column.sketch, column.minimum, column.maximum, column.count
                        ),
                        "sketch": column.sketch.to_json(),
                    }
                },
            },
        }
    buckets = sorted(column.categories.items(), key=lambda item: (-item[1], item[0]))
    return {
        "name": column.name,
        "inferred_type": kind,
        "string_statistics": {
            "common": common,
            "distinct_count": column.distinct_count,
            "distribution": {
                "categorical": {
                    "buckets": [{"value": value, "count": count} for value, count in buckets]
                }
            },
        },
    }


def kll_buckets(
    sketch: KllSketch, minimum: float, maximum: float, count: int
) -> list[dict[str, float]]:
    """``KLL_BUCKETS`` equal-width buckets over [min, max], counts estimated from the sketch."""
    if count == 0:
        return []
    if minimum == maximum:
        return [{"lower_bound": minimum, "upper_bound": maximum, "count": float(count)}]
    edges = np.linspace(minimum, maximum, KLL_BUCKETS + 1)
    cumulative = sketch.cdf(edges[1:]) * count
    cumulative[-1] = count
    counts = np.diff(np.concatenate([[0.0], cumulative]))
    return [
        {"lower_bound": float(lo), "upper_bound": float(hi), "count": float(round(c, 6))}
        for lo, hi, c in zip(edges[:-1], edges[1:], counts)
    ]


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class FeatureStatistics:
    """What the checks need to know about one baseline feature."""

    name: str
    inferred_type: str
    num_present: int
    num_missing: int
    values: np.ndarray  # numeric: distribution support (sorted)
    weights: np.ndarray  # numeric: mass of each support point
    categories: Mapping[str, float]  # string: value -> count
    minimum: float | None = None


@dataclass(frozen=True)
class BaselineStatistics:
    item_count: int
    features: Mapping[str, FeatureStatistics]


def parse_statistics(
    document: Mapping[str, Any], where: str = "statistics.json"
) -> BaselineStatistics:
    check_format_version(document, where)
    dataset = require(document, "dataset", dict, where)
    item_count = int(
        as_number(
            require(dataset, "item_count", (int, float, str), f"{where}.dataset"),
            f"{where}.dataset.item_count",
        )
    )
    features = {}
    for index, feature in enumerate(require(document, "features", list, where)):
        place = f"{where}.features[{index}]"
        if not isinstance(feature, dict):
            raise DataError(f"{place}: expected an object")
        parsed = _parse_feature(feature, place)
        features[parsed.name] = parsed
    return BaselineStatistics(item_count, features)


def _parse_feature(feature: Mapping[str, Any], place: str) -> FeatureStatistics:
    name = require(feature, "name", str, place)
    kind = require(feature, "inferred_type", str, place)
    if kind not in INFERRED_TYPES:
        raise DataError(
            f"{place}.inferred_type: expected one of {', '.join(INFERRED_TYPES)}, got {kind}"
        )
    block_name = "numerical_statistics" if kind in NUMERIC_TYPES else "string_statistics"
    block = feature.get(block_name) or {}
    common = block.get("common") or {}
    present = int(
        as_number(common.get("num_present", 0), f"{place}.{block_name}.common.num_present")
    )
    missing = int(
        as_number(common.get("num_missing", 0), f"{place}.{block_name}.common.num_missing")
    )
    empty = np.empty(0)
    if kind in NUMERIC_TYPES:
        values, weights = _numeric_distribution(block, f"{place}.{block_name}")
        minimum = as_number(block["min"], f"{place}.min") if "min" in block else None
        return FeatureStatistics(name, kind, present, missing, values, weights, {}, minimum)
    buckets = ((block.get("distribution") or {}).get("categorical") or {}).get("buckets") or []
    categories = {
        str(bucket.get("value")): as_number(bucket.get("count", 0), f"{place}.buckets[{i}].count")
        for i, bucket in enumerate(buckets)
    }
    return FeatureStatistics(name, kind, present, missing, empty, empty, categories)


def _numeric_distribution(block: Mapping[str, Any], place: str) -> tuple[np.ndarray, np.ndarray]:
    kll = (block.get("distribution") or {}).get("kll") or {}
    sketch = kll.get("sketch")
    if isinstance(sketch, dict) and sketch.get("data"):
        try:
            return KllSketch.from_json(
                sketch, where=f"{place}.distribution.kll.sketch"
            ).weighted_items()
        except (ValueError, TypeError) as exc:
            raise DataError(f"{place}.distribution.kll.sketch: {exc}") from exc
    buckets = kll.get("buckets") or []
    mids, counts = [], []
    for i, bucket in enumerate(buckets):
        lo = as_number(bucket.get("lower_bound"), f"{place}.buckets[{i}].lower_bound")
        hi = as_number(bucket.get("upper_bound"), f"{place}.buckets[{i}].upper_bound")
        mids.append((lo + hi) / 2)
        counts.append(as_number(bucket.get("count", 0), f"{place}.buckets[{i}].count"))
    order = np.argsort(mids)
    return np.asarray(mids, dtype=float)[order], np.asarray(counts, dtype=float)[order]


def profile_distribution(column: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    return column.sketch.weighted_items()


__all__ = [
    "FRACTIONAL",
    "INTEGRAL",
    "STRING",
    "BaselineStatistics",
    "FeatureStatistics",
    "feature_statistics",
    "kll_buckets",
    "parse_statistics",
    "statistics_document",
]
