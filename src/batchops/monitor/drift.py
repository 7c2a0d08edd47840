"""Distances between a baseline distribution and the current one (baseline_drift_check).

Numeric features: the L∞ distance between the two cumulative distribution functions,
i.e. the two-sample Kolmogorov-Smirnov statistic ``D = max_x |F_baseline(x) - F_current(x)|``,
computed from the two KLL sketches (exact for the sketched distributions: both CDFs are
step functions, so the maximum is reached at a retained item).

String features, ``LInfinity`` (the default): the largest difference between a category's
share of the present values in the baseline and in the current data.

``ChiSquared``: Pearson's chi-squared test of homogeneity on the 2 x K table of category
counts; drift is flagged when its p-value is *below* ``categorical_comparison_threshold``
(the threshold is read as a significance level).

``comparison_method``: ``Simple`` flags ``D > threshold``. ``Robust`` (the default) adds
the two-sample KS critical-value allowance so that a small batch is not flagged for mere
sampling noise: ``D > threshold + 1.8 * sqrt((n + m) / (n * m))`` for ``n`` baseline and
``m`` current values. 1.8 is the KS coefficient for about 99.7 % confidence (1.63 would
be 99 %); a 1,000-row resample of the baseline therefore gets an allowance of ~0.057 on
top of the 0.1 threshold, while a feature scaled by 1.6 moves its CDF by far more.
This is the correction Deequ (AWS's analyzer) applies for small samples; we apply the same
allowance to categorical L∞, where it bounds the noise of every share at ~3.6 standard
errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from batchops.monitor.kll import weighted_cdf

ROBUST_COEFFICIENT = 1.8


def numeric_distance(
    baseline: tuple[np.ndarray, np.ndarray], current: tuple[np.ndarray, np.ndarray]
) -> float:
    """Kolmogorov-Smirnov D between two weighted, sorted supports."""
    (va, wa), (vb, wb) = baseline, current
    if va.size == 0 or vb.size == 0:
        return 0.0 if va.size == vb.size else 1.0
    points = np.union1d(va, vb)
    return float(np.max(np.abs(weighted_cdf(va, wa, points) - weighted_cdf(vb, wb, points))))


def categorical_distance(
    baseline: Mapping[str, float],
    baseline_total: float,
    current: Mapping[str, float],
    current_total: float,
) -> float:
    """Largest difference of category shares (shares of all present values)."""
    if baseline_total <= 0 or current_total <= 0:
        return 0.0 if baseline_total == current_total else 1.0
    keys = set(baseline) | set(current)
    return max(
        (
            abs(baseline.get(k, 0.0) / baseline_total - current.get(k, 0.0) / current_total)
            for k in keys
        ),
        default=0.0,
    )


def robust_allowance(n: float, m: float) -> float:
    if n <= 0 or m <= 0:
        return math.inf
    return ROBUST_COEFFICIENT * math.sqrt((n + m) / (n * m))


def chi_squared_test(
    baseline: Mapping[str, float], current: Mapping[str, float]
) -> tuple[float, int, float]:
    """(statistic, degrees of freedom, p-value) of the 2 x K homogeneity test."""
    keys = sorted(set(baseline) | set(current))
    table = np.array(
        [[baseline.get(k, 0.0) for k in keys], [current.get(k, 0.0) for k in keys]], dtype=float
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 0, 1.0
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    dof = table.shape[1] - 1
    return statistic, dof, regularized_upper_gamma(dof / 2.0, statistic / 2.0)


def regularized_upper_gamma(a: float, x: float) -> float:
    """Q(a, x) = Γ(a, x) / Γ(a): series below a + 1, Lentz continued fraction above."""
    if x <= 0:
        return 1.0
    log_prefix = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1.0 / a
        denominator = a
        for _ in range(1000):
            denominator += 1
            term *= x / denominator
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_prefix))
    tiny = 1e-300
    b = x + 1 - a
    c = 1 / tiny
    d = 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return min(1.0, math.exp(log_prefix) * h)
