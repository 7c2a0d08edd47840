"""Evaluate a profiled batch against baseline constraints (+ statistics) → violations.

Each rule below states AWS's documented behaviour ("Schema for Violations" page) and the
exact test we apply. Every description is one line giving the measured value and the
threshold, so the violation file (and the pipeline's failure message) says what to fix.

* ``missing_column_check`` / ``extra_column_check``: a baseline feature absent from the
  data, or a data column absent from the baseline (one violation per column, by name;
  headerless CSV columns are named by position, ``_c0``...).
* ``data_type_check``: share of present values of the baseline type (an integer counts as
  Fractional) must be >= ``datatype_check_threshold``. String and Unknown baselines accept
  anything.
* ``completeness_check``: observed completeness (present / rows) must be >= the feature's
  baseline ``completeness``.
* ``non_negative_check``: a feature with ``is_non_negative: true`` must have no negative
  number.
* ``categorical_values_check``: share of present values inside ``string_constraints.domains``
  must be >= ``domain_content_threshold``.
* ``baseline_drift_check``: see :mod:`batchops.monitor.drift` (needs baseline statistics).

``monitoring_config.evaluate_constraints: Disabled`` turns every check off, and
``distribution_constraints.perform_comparison: Disabled`` turns the drift check off, as
documented.
"""

from __future__ import annotations

from dataclasses import dataclass

from batchops.monitor import drift
from batchops.monitor.constraints import Constraints, FeatureConstraint, MonitoringConfig
from batchops.monitor.formats import (
    BASELINE_DRIFT_CHECK,
    CATEGORICAL_VALUES_CHECK,
    COMPLETENESS_CHECK,
    DATA_TYPE_CHECK,
    EXTRA_COLUMN_CHECK,
    FRACTIONAL,
    INTEGRAL,
    MISSING_COLUMN_CHECK,
    NON_NEGATIVE_CHECK,
    NUMERIC_TYPES,
    STRING,
)
from batchops.monitor.profile import ColumnProfile, DatasetProfile
from batchops.monitor.statistics import BaselineStatistics, FeatureStatistics


@dataclass(frozen=True)
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str

    def to_json(self) -> dict[str, str]:
        return {
            "feature_name": self.feature_name,
            "constraint_check_type": self.constraint_check_type,
            "description": self.description,
        }


def check_profile(
    current: DatasetProfile, constraints: Constraints, baseline: BaselineStatistics | None
) -> list[Violation]:
    config = constraints.config
    if not config.evaluate_constraints:
        return []
    violations = _column_set(current, constraints)
    for feature in constraints.features:
        column = current.columns.get(feature.name)
        if column is None:
            continue
        violations += _data_type(feature, column, config)
        violations += _completeness(feature, column)
        violations += _non_negative(feature, column)
        violations += _domain(feature, column, config)
        stats = baseline.features.get(feature.name) if baseline else None
        if config.perform_comparison and stats is not None:
            violations += _drift(stats, column, config)
    return violations


def empty_batch_violations(constraints: Constraints, reason: str) -> list[Violation]:
    """A batch without a single row: every baseline feature is incomplete (0 of 0 present)."""
    if not constraints.config.evaluate_constraints:
        return []
    return [
        Violation(
            feature.name,
            COMPLETENESS_CHECK,
            "Data completeness requirement is not met: the batch has no rows, expected at "
            f"least {_percent(feature.completeness if feature.completeness is not None else 1.0)}"
            f" of values present ({reason})",
        )
        for feature in constraints.features
    ]


def _column_set(current: DatasetProfile, constraints: Constraints) -> list[Violation]:
    expected, seen = constraints.names, current.names
    counts = f"{len(seen)} column(s) in the data, {len(expected)} in the baseline constraints"
    missing = [
        Violation(
            name,
            MISSING_COLUMN_CHECK,
            f"Column {name} is in the baseline constraints but missing from the data ({counts})",
        )
        for name in expected
        if name not in current.columns
    ]
    extra = [
        Violation(
            name,
            EXTRA_COLUMN_CHECK,
            f"Column {name} is in the data but not in the baseline constraints ({counts})",
        )
        for name in seen
        if name not in expected
    ]
    return missing + extra


def _percent(value: float) -> str:
    return f"{100 * value:.4g}%"


def _data_type(
    feature: FeatureConstraint, column: ColumnProfile, config: MonitoringConfig
) -> list[Violation]:
    if feature.inferred_type not in NUMERIC_TYPES or column.present == 0:
        return []
    matched = column.integral + (column.fractional if feature.inferred_type == FRACTIONAL else 0)
    share = matched / column.present
    if share >= config.datatype_check_threshold:
        return []
    observed = column.inferred_type
    return [
        Violation(
            feature.name,
            DATA_TYPE_CHECK,
            "Data type match requirement is not met: "
            f"expected {feature.inferred_type} for at least "
            f"{_percent(config.datatype_check_threshold)} of values, observed {_percent(share)} "
            f"({matched} of {column.present} present values; inferred type now {observed})",
        )
    ]


def _completeness(feature: FeatureConstraint, column: ColumnProfile) -> list[Violation]:
    if feature.completeness is None or column.rows == 0:
        return []
    observed = column.present / column.rows
    if observed >= feature.completeness - 1e-12:
        return []
    return [
        Violation(
            feature.name,
            COMPLETENESS_CHECK,
            "Data completeness requirement is not met: "
            f"expected at least {_percent(feature.completeness)}, "
            f"observed {_percent(observed)} ({column.missing} of {column.rows} values missing)",
        )
    ]


def _non_negative(feature: FeatureConstraint, column: ColumnProfile) -> list[Violation]:
    if not feature.is_non_negative or column.negatives == 0:
        return []
    return [
        Violation(
            feature.name,
            NON_NEGATIVE_CHECK,
            f"Data has negative values: expected none (the baseline had none), observed "
            f"{column.negatives} negative value(s), minimum {column.minimum:.6g}",
        )
    ]


def _domain(
    feature: FeatureConstraint, column: ColumnProfile, config: MonitoringConfig
) -> list[Violation]:
    if feature.domains is None or column.present == 0:
        return []
    domain = set(feature.domains)
    inside = sum(count for value, count in column.categories.items() if value in domain)
    share = inside / column.present
    if share >= config.domain_content_threshold:
        return []
    unseen = sorted(
        ((v, c) for v, c in column.categories.items() if v not in domain), key=lambda x: -x[1]
    )
    examples = ", ".join(f"{v!r} ({c})" for v, c in unseen[:5]) or "non-text values"
    return [
        Violation(
            feature.name,
            CATEGORICAL_VALUES_CHECK,
            "Data domain requirement is not met: expected at least "
            f"{_percent(config.domain_content_threshold)} of values in the baseline domain "
            f"[{', '.join(sorted(domain))}], observed {_percent(share)}; "
            f"values outside it: {examples}",
        )
    ]


def _drift(
    stats: FeatureStatistics, column: ColumnProfile, config: MonitoringConfig
) -> list[Violation]:
    if stats.inferred_type in NUMERIC_TYPES and column.inferred_type in (INTEGRAL, FRACTIONAL):
        distance = drift.numeric_distance(
            (stats.values, stats.weights), column.sketch.weighted_items()
        )
        return _drift_violation(
            stats.name,
            distance,
            config.comparison_threshold,
            method=config.comparison_method,
            sizes=(stats.num_present, column.count),
            kind="numeric",
        )
    if stats.inferred_type == STRING and stats.categories and column.categories:
        if config.categorical_drift_method == "ChiSquared":
            statistic, dof, p_value = drift.chi_squared_test(stats.categories, column.categories)
            if p_value >= config.categorical_comparison_threshold:
                return []
            return [
                Violation(
                    stats.name,
                    BASELINE_DRIFT_CHECK,
                    f"Baseline drift (ChiSquared): p-value {p_value:.4g} is below threshold "
                    f"{config.categorical_comparison_threshold} "
                    f"(chi-squared {statistic:.4g}, {dof} degree(s) of freedom)",
                )
            ]
        distance = drift.categorical_distance(
            stats.categories, stats.num_present, column.categories, column.present
        )
        return _drift_violation(
            stats.name,
            distance,
            config.categorical_comparison_threshold,
            method=config.comparison_method,
            sizes=(stats.num_present, column.present),
            kind="categorical LInfinity",
        )
    return []


def _drift_violation(
    name: str,
    distance: float,
    threshold: float,
    *,
    method: str,
    sizes: tuple[float, float],
    kind: str,
) -> list[Violation]:
    n, m = sizes
    allowance = drift.robust_allowance(n, m) if method == "Robust" else 0.0
    if distance <= threshold + allowance:
        return []
    detail = (
        f"Robust method: allowance {allowance:.4g} for {int(n)} baseline "
        f"and {int(m)} current values"
        if method == "Robust"
        else "Simple method"
    )
    return [
        Violation(
            name,
            BASELINE_DRIFT_CHECK,
            f"Baseline drift distance: {distance:.4g} exceeds threshold: {threshold} "
            f"({kind}; {detail})",
        )
    ]
