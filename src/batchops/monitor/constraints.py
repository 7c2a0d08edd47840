"""constraints.json: suggested from a baseline profile, and parsed (ours or AWS's).

Suggestions follow what AWS's analyzer proposes (Deequ's constraint suggestion rules):
the inferred type, the observed completeness, ``is_non_negative`` when the baseline has
no negative number, and a string domain (the observed values) for low-cardinality string
features — at most :data:`MAX_DOMAIN_SIZE` distinct values, Deequ's low-cardinality
histogram threshold. ``monitoring_config`` gets the documented defaults
(:func:`batchops.monitor.formats.default_monitoring_config`).

Parsing accepts any file following AWS's schema, including the misspelt
``comparion_method`` key shown in an older version of AWS's page, and fills absent
``monitoring_config`` keys with the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from batchops.errors import DataError
from batchops.monitor.formats import (
    INFERRED_TYPES,
    NUMERIC_TYPES,
    STRING,
    as_number,
    check_format_version,
    default_monitoring_config,
    require,
)
from batchops.monitor.profile import DatasetProfile

MAX_DOMAIN_SIZE = 120
COMPARISON_METHODS = ("Simple", "Robust")
CATEGORICAL_DRIFT_METHODS = ("LInfinity", "ChiSquared")


def suggest_constraints(
    profile: DatasetProfile, categorical_drift_method: str = "LInfinity"
) -> dict[str, Any]:
    if categorical_drift_method not in CATEGORICAL_DRIFT_METHODS:
        raise DataError(
            f"categorical_drift_method: expected one of {', '.join(CATEGORICAL_DRIFT_METHODS)}, "
            f"got {categorical_drift_method}"
        )
    features = []
    for column in profile.columns.values():
        feature: dict[str, Any] = {
            "name": column.name,
            "inferred_type": column.inferred_type,
            "completeness": column.present / column.rows if column.rows else 0.0,
        }
        if column.inferred_type in NUMERIC_TYPES:
            feature["num_constraints"] = {"is_non_negative": column.negatives == 0}
        elif (
            column.inferred_type == STRING
            and not column.truncated
            and len(column.categories) <= MAX_DOMAIN_SIZE
        ):
            feature["string_constraints"] = {"domains": sorted(column.categories)}
        features.append(feature)
    return {
        "version": 0.0,
        "features": features,
        "monitoring_config": default_monitoring_config(categorical_drift_method),
    }


@dataclass(frozen=True)
class FeatureConstraint:
    name: str
    inferred_type: str
    completeness: float | None
    is_non_negative: bool | None
    domains: tuple[str, ...] | None


@dataclass(frozen=True)
class MonitoringConfig:
    evaluate_constraints: bool = True
    datatype_check_threshold: float = 1.0
    domain_content_threshold: float = 1.0
    perform_comparison: bool = True
    comparison_threshold: float = 0.1
    comparison_method: str = "Robust"
    categorical_comparison_threshold: float = 0.1
    categorical_drift_method: str = "LInfinity"


@dataclass(frozen=True)
class Constraints:
    features: tuple[FeatureConstraint, ...]
    config: MonitoringConfig

    @property
    def names(self) -> list[str]:
        return [feature.name for feature in self.features]


def parse_constraints(document: Mapping[str, Any], where: str = "constraints.json") -> Constraints:
    check_format_version(document, where)
    features = []
    for index, raw in enumerate(require(document, "features", list, where)):
        place = f"{where}.features[{index}]"
        if not isinstance(raw, dict):
            raise DataError(f"{place}: expected an object")
        features.append(_parse_feature(raw, place))
    names = [feature.name for feature in features]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise DataError(f"{where}: feature names must be unique, repeated: {', '.join(duplicates)}")
    config = _parse_config(document.get("monitoring_config") or {}, f"{where}.monitoring_config")
    return Constraints(tuple(features), config)


def _parse_feature(raw: Mapping[str, Any], place: str) -> FeatureConstraint:
    name = require(raw, "name", str, place)
    kind = raw.get("inferred_type", "Unknown")
    if kind not in INFERRED_TYPES:
        raise DataError(
            f"{place}.inferred_type: expected one of {', '.join(INFERRED_TYPES)}, got {kind}"
        )
    completeness = (
        as_number(raw["completeness"], f"{place}.completeness") if "completeness" in raw else None
    )
    num = raw.get("num_constraints") or {}
    non_negative = num.get("is_non_negative")
    if non_negative is not None and not isinstance(non_negative, bool):
        raise DataError(
            f"{place}.num_constraints.is_non_negative: expected true or false, got {non_negative}"
        )
    strings = raw.get("string_constraints") or {}
    domains = strings.get("domains")
    if domains is not None and not isinstance(domains, list):
        raise DataError(f"{place}.string_constraints.domains: expected a list of values")
    return FeatureConstraint(
        name,
        kind,
        completeness,
        non_negative,
        tuple(str(d) for d in domains) if domains is not None else None,
    )


def _parse_config(raw: Mapping[str, Any], place: str) -> MonitoringConfig:
    default = MonitoringConfig()
    distribution = raw.get("distribution_constraints") or {}
    method = distribution.get(
        "comparison_method", distribution.get("comparion_method", default.comparison_method)
    )
    categorical = distribution.get("categorical_drift_method", default.categorical_drift_method)
    _one_of(method, COMPARISON_METHODS, f"{place}.distribution_constraints.comparison_method")
    _one_of(
        categorical,
        CATEGORICAL_DRIFT_METHODS,
        f"{place}.distribution_constraints.categorical_drift_method",
    )

    def number(block: Mapping[str, Any], key: str, fallback: float, prefix: str) -> float:
        return as_number(block[key], f"{prefix}.{key}") if key in block else fallback

    dist_place = f"{place}.distribution_constraints"
    return MonitoringConfig(
        evaluate_constraints=_enabled(
            raw.get("evaluate_constraints", "Enabled"), f"{place}.evaluate_constraints"
        ),
        datatype_check_threshold=number(
            raw, "datatype_check_threshold", default.datatype_check_threshold, place
        ),
        domain_content_threshold=number(
            raw, "domain_content_threshold", default.domain_content_threshold, place
        ),
        perform_comparison=_enabled(
            distribution.get("perform_comparison", "Enabled"), f"{dist_place}.perform_comparison"
        ),
        comparison_threshold=number(
            distribution, "comparison_threshold", default.comparison_threshold, dist_place
        ),
        comparison_method=method,
        categorical_comparison_threshold=number(
            distribution,
            "categorical_comparison_threshold",
            default.categorical_comparison_threshold,
            dist_place,
        ),
        categorical_drift_method=categorical,
    )


def _enabled(value: Any, where: str) -> bool:
    _one_of(value, ("Enabled", "Disabled"), where)
    return bool(value == "Enabled")


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise DataError(f"{where}: expected one of {', '.join(allowed)}, got {value}")
