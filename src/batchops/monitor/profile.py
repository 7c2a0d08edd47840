"""Mergeable per-column profiles of a dataset, built batch by batch in one pass.

Why: both the baseline and the check need the same numbers (counts, moments, min/max,
a distribution sketch, category counts and how many values of each type were seen), and
a file larger than memory has to be summarised piece by piece. Every field here merges
exactly (counts, sums, min/max, Chan et al.'s pairwise update of mean and M2) or through
a mergeable sketch (KLL for numbers, HyperLogLog for the distinct count once a column has
more than :data:`MAX_CATEGORIES` values), so a profile of a directory of CSV parts is the
merge of the parts' profiles.

Type inference follows Deequ (which AWS's analyzer is built on): a column whose present
values are all integers is ``Integral``; all numbers with at least one non-integer is
``Fractional``; any value that is not a number makes it ``String``; no present value at
all is ``Unknown``. Empty fields are missing; so are NaN and infinite numbers, which the
JSON files could not carry (and whose mean would be meaningless). Standard deviation is
the population one, as Deequ's ``StandardDeviation`` analyzer computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from batchops.monitor.formats import FRACTIONAL, INTEGRAL, STRING, UNKNOWN
from batchops.monitor.kll import DEFAULT_SAMPLE_TARGET, KllSketch

if TYPE_CHECKING:
    import polars as pl

#: Categories tracked exactly per column; beyond this the most frequent are kept.
MAX_CATEGORIES = 1000
HLL_BITS = 12
_HLL_SEED = 0x6D6F6E
_SAMPLE_SEED = 0x5EED


@dataclass
class ColumnProfile:
    """Everything the statistics and the checks need about one column."""

    name: str
    rows: int = 0
    missing: int = 0
    integral: int = 0  # present values that are integers
    fractional: int = 0  # present numbers that are not integers
    text: int = 0  # present values that are not numbers
    count: int = 0  # finite numbers summarised below
    total: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    minimum: float = math.inf
    maximum: float = -math.inf
    negatives: int = 0
    sketch: KllSketch = field(default_factory=KllSketch)
    categories: dict[str, int] = field(default_factory=dict)
    truncated: bool = False
    hll: np.ndarray = field(default_factory=lambda: np.zeros(1 << HLL_BITS, dtype=np.uint8))

    @property
    def present(self) -> int:
        return self.rows - self.missing

    @property
    def inferred_type(self) -> str:
        if self.text:
            return STRING
        if self.fractional:
            return FRACTIONAL
        if self.integral:
            return INTEGRAL
        return UNKNOWN

    @property
    def std_dev(self) -> float:
        return math.sqrt(self.m2 / self.count) if self.count else 0.0

    @property
    def distinct_count(self) -> float:
        return float(len(self.categories)) if not self.truncated else hll_estimate(self.hll)

    def add_moments(self, count: int, total: float, mean: float, m2: float) -> None:
        """Chan et al.'s parallel update of (count, mean, M2)."""
        if count == 0:
            return
        combined = self.count + count
        delta = mean - self.mean
        self.mean += delta * count / combined
        self.m2 += m2 + delta * delta * self.count * count / combined
        self.count = combined
        self.total += total

    def add_categories(self, values: list[str], counts: list[int], hashes: np.ndarray) -> None:
        for value, count in zip(values, counts):
            self.categories[value] = self.categories.get(value, 0) + count
        if len(self.categories) > MAX_CATEGORIES:
            top = sorted(self.categories.items(), key=lambda item: (-item[1], item[0]))
            self.categories = dict(top[:MAX_CATEGORIES])
            self.truncated = True
        hll_add(self.hll, hashes)


def merge_columns(a: ColumnProfile, b: ColumnProfile) -> ColumnProfile:
    """The profile of the concatenation of two datasets' columns (inputs untouched)."""
    merged = replace(a, categories=dict(a.categories), hll=np.maximum(a.hll, b.hll))
    merged.rows += b.rows
    merged.missing += b.missing
    merged.integral += b.integral
    merged.fractional += b.fractional
    merged.text += b.text
    merged.negatives += b.negatives
    merged.minimum = min(a.minimum, b.minimum)
    merged.maximum = max(a.maximum, b.maximum)
    merged.add_moments(b.count, b.total, b.mean, b.m2)
    merged.sketch = a.sketch.merge(b.sketch)
    merged.truncated = a.truncated or b.truncated
    merged.add_categories(list(b.categories), list(b.categories.values()), np.empty(0, np.uint64))
    return merged


@dataclass
class DatasetProfile:
    """Per-column profiles in column order, plus the number of rows.

    ``rng`` drives the row sampling; it is seeded so a profile is reproducible.
    """

    columns: dict[str, ColumnProfile]
    item_count: int = 0
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(_SAMPLE_SEED))

    @property
    def names(self) -> list[str]:
        return list(self.columns)


def merge_profiles(a: DatasetProfile, b: DatasetProfile) -> DatasetProfile:
    if a.names != b.names:
        raise ValueError(f"cannot merge profiles with columns {a.names} and {b.names}")
    columns = {name: merge_columns(a.columns[name], b.columns[name]) for name in a.names}
    return DatasetProfile(columns, a.item_count + b.item_count)


def empty_profile(names: list[str]) -> DatasetProfile:
    return DatasetProfile({name: ColumnProfile(name) for name in names})


# --------------------------------------------------------------------------- batches
def update_with_batch(profile: DatasetProfile, frame: pl.DataFrame, *, as_text: bool) -> None:
    """Fold one batch of rows into ``profile`` (in place: the batch loop's accumulator).

    Typed numeric columns give moments, min/max and the sketch; text columns give value
    counts, from which each *distinct* value is classified as integer, number or text
    (cheap: a low-cardinality column has few distinct values). When the file is read
    ``as_text`` (mixed types), numbers are also parsed out of the text for the moments.
    """
    import polars as pl

    rows = frame.height
    if rows == 0:
        return
    if as_text:
        frame = frame.with_columns(pl.all().cast(pl.String))
    schema = frame.schema
    numeric = [c for c, dtype in schema.items() if dtype.is_numeric()]
    textual = [c for c in frame.columns if c not in numeric]
    if not as_text and textual:
        frame = frame.with_columns(pl.col(textual).cast(pl.String))
    values = {c: pl.col(c) for c in numeric}
    if as_text:
        values.update({c: pl.col(c).cast(pl.Float64, strict=False) for c in textual})
    if values:
        integers = {c for c in numeric if schema[c].is_integer()}
        _fold_numbers(profile, frame, values, typed={c: c in integers for c in numeric})
    for name in textual:
        _fold_text(profile.columns[name], frame.get_column(name))
    for name in frame.columns:
        profile.columns[name].rows += rows
    profile.item_count += rows


def _fold_numbers(
    profile: DatasetProfile, frame: pl.DataFrame, values: dict[str, pl.Expr], typed: dict[str, bool]
) -> None:
    """Moments, min/max, negatives and sketch; type counts for typed numeric columns."""
    import polars as pl

    stats = frame.select(_aggregations(values)).row(0, named=True)
    if any(_non_finite(stats[f"{name}|sum"]) for name in values):
        values = {c: pl.when(v.is_finite()).then(v) for c, v in values.items()}
        stats = frame.select(_aggregations(values)).row(0, named=True)
    below_zero = [c for c in values if stats[f"{c}|min"] is not None and stats[f"{c}|min"] < 0]
    negatives = (
        frame.select((values[c] < 0).sum().alias(c) for c in below_zero).row(0, named=True)
        if below_zero
        else {}
    )
    level = _sampling_level(profile.item_count + frame.height)
    sample = _sample_rows(frame, values, level, profile.rng)
    for name in values:
        column = profile.columns[name]
        n = int(stats[f"{name}|n"])
        if name in typed:
            # a NaN or infinity in a typed column is no usable number: count it as missing
            column.missing += frame.height - n
            if typed[name]:
                column.integral += n
            else:
                column.fractional += n
        if n:
            column.add_moments(
                n,
                float(stats[f"{name}|sum"]),
                float(stats[f"{name}|sum"]) / n,
                float(stats[f"{name}|var"]) * n,
            )
            column.minimum = min(column.minimum, float(stats[f"{name}|min"]))
            column.maximum = max(column.maximum, float(stats[f"{name}|max"]))
            column.negatives += int(negatives.get(name, 0))
        column.sketch.insert_sampled(sample[name].drop_nulls().to_numpy(), level, represented=n)


def _aggregations(values: dict[str, pl.Expr]) -> list[pl.Expr]:
    exprs: list[pl.Expr] = []
    for name, v in values.items():
        exprs += [
            v.count().alias(f"{name}|n"),
            v.sum().alias(f"{name}|sum"),
            v.var(ddof=0).alias(f"{name}|var"),
            v.min().alias(f"{name}|min"),
            v.max().alias(f"{name}|max"),
        ]
    return exprs


def _non_finite(value: object) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def _fold_text(column: ColumnProfile, series: pl.Series) -> None:
    """Type counts and category counts of a text column, from its value counts."""
    import polars as pl

    nulls = series.null_count()
    counts = series.value_counts(name="count").filter(pl.col(series.name).is_not_null())
    column.missing += nulls
    if counts.height == 0:
        return
    text = counts.get_column(series.name)
    weight = counts.get_column("count")
    as_float = text.cast(pl.Float64, strict=False)
    is_int = text.cast(pl.Int64, strict=False).is_not_null()
    finite = as_float.is_finite().fill_null(False)
    non_finite = as_float.is_not_null() & ~finite
    integral = int(weight.filter(is_int).sum())
    fractional = int(weight.filter(finite & ~is_int).sum())
    missing = int(weight.filter(non_finite).sum())
    column.integral += integral
    column.fractional += fractional
    column.missing += missing
    column.text += int(weight.sum()) - integral - fractional - missing
    hashes = text.hash(seed=_HLL_SEED).to_numpy()
    if counts.height > MAX_CATEGORIES:
        counts = counts.top_k(MAX_CATEGORIES, by="count")
        column.truncated = True
    column.add_categories(
        counts.get_column(series.name).to_list(), counts.get_column("count").to_list(), hashes
    )


def _sampling_level(total_rows: int, target: int = DEFAULT_SAMPLE_TARGET) -> int:
    if total_rows < 2 * target:
        return 0
    return math.floor(math.log2(total_rows / target))


def _sample_rows(
    frame: pl.DataFrame, values: dict[str, pl.Expr], level: int, rng: np.random.Generator
) -> pl.DataFrame:
    """Numeric values of a Bernoulli sample of rows (all rows when ``level`` is 0)."""

    if level:
        p = 2.0**-level
        gaps = rng.geometric(p, size=int(frame.height * p + 6 * math.sqrt(frame.height * p) + 16))
        positions = np.cumsum(gaps) - 1
        frame = frame[positions[positions < frame.height]]
    return frame.select(v.alias(name) for name, v in values.items())


# --------------------------------------------------------------------------- HyperLogLog
def hll_add(registers: np.ndarray, hashes: np.ndarray) -> None:
    if hashes.size == 0:
        return
    hashes = hashes.astype(np.uint64, copy=False)
    index = (hashes >> np.uint64(64 - HLL_BITS)).astype(np.intp)
    rest = hashes & np.uint64((1 << (64 - HLL_BITS)) - 1)
    width = 64 - HLL_BITS
    with np.errstate(divide="ignore"):
        top_bit = np.floor(np.log2(rest.astype(np.float64)))
    rank = np.where(rest == 0, width + 1, width - top_bit).astype(np.uint8)
    np.maximum.at(registers, index, rank)


def hll_estimate(registers: np.ndarray) -> float:
    m = registers.size
    alpha = 0.7213 / (1 + 1.079 / m)
    raw = alpha * m * m / float(np.sum(np.power(2.0, -registers.astype(np.float64))))
    zeros = int(np.count_nonzero(registers == 0))
    if raw <= 2.5 * m and zeros:
        return float(round(m * math.log(m / zeros)))
    return float(round(raw))
