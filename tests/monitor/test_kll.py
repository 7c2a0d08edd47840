"""The KLL sketch: rank error within its bound, mergeable, bounded in memory, JSON round trip."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from batchops.monitor.kll import KllSketch

values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=3000
)


def _max_rank_error(sketch: KllSketch, data: np.ndarray) -> float:
    """Largest |estimated - exact| count of values <= x over every distinct x."""
    points = np.unique(data)
    exact = np.searchsorted(np.sort(data), points, side="right")
    return float(np.max(np.abs(sketch.cdf(points) * sketch.n - exact)))


@settings(max_examples=40, deadline=None)
@given(values, st.integers(min_value=8, max_value=64))
def test_rank_error_stays_within_the_sketch_bound(data: list[float], k: int) -> None:
    array = np.asarray(data)
    sketch = KllSketch(k=k, sample_target=None)  # no sampling: the bound is deterministic
    for chunk in np.array_split(array, 5):
        sketch.update(chunk)
    assert sketch.n == array.size
    assert _max_rank_error(sketch, array) <= sketch.error_bound + 1e-9


@settings(max_examples=30, deadline=None)
@given(values, values, values)
def test_merge_is_associative_within_the_error_bound(
    a: list[float], b: list[float], c: list[float]
) -> None:
    sketches = []
    for part in (a, b, c):
        sketch = KllSketch(k=16, sample_target=None)
        sketch.update(np.asarray(part))
        sketches.append(sketch)
    left = sketches[0].merge(sketches[1]).merge(sketches[2])
    right = sketches[0].merge(sketches[1].merge(sketches[2]))
    everything = np.asarray(a + b + c)
    assert left.n == right.n == everything.size
    for merged in (left, right):
        assert _max_rank_error(merged, everything) <= merged.error_bound + 1e-9
    points = np.unique(everything)
    gap = np.max(np.abs(left.cdf(points) - right.cdf(points))) * everything.size
    assert gap <= left.error_bound + right.error_bound + 1e-9


def test_merge_leaves_its_inputs_untouched() -> None:
    a, b = KllSketch(k=16), KllSketch(k=16)
    a.update(np.arange(500.0))
    b.update(np.arange(500.0, 900.0))
    before = (a.n, a.retained, b.n, b.retained)
    merged = a.merge(b)
    assert (a.n, a.retained, b.n, b.retained) == before
    assert merged.n == 900


def test_memory_is_bounded_while_the_stream_grows() -> None:
    rng = np.random.default_rng(0)
    sketch = KllSketch()
    retained = []
    for _ in range(40):
        sketch.update(rng.normal(size=250_000))
        retained.append(sketch.retained)
    assert sketch.n == 10_000_000
    # capacities form a geometric series: at most k / (1 - c) items plus 2 per level
    bound = sketch.k / (1 - sketch.c) + 2 * len(sketch.levels)
    assert max(retained) <= bound
    assert len(sketch.levels) < 20


def test_quantiles_of_a_sampled_long_stream_are_accurate() -> None:
    rng = np.random.default_rng(1)
    data = rng.exponential(size=2_000_000)
    sketch = KllSketch()
    for chunk in np.array_split(data, 8):
        sketch.update(chunk)
    assert sketch.sampled
    qs = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    estimated_ranks = np.searchsorted(np.sort(data), sketch.quantiles(qs)) / data.size
    assert np.max(np.abs(estimated_ranks - qs)) < 0.01


def test_json_round_trip_keeps_the_distribution() -> None:
    sketch = KllSketch(k=32)
    sketch.update(np.linspace(0, 1, 5000))
    document = sketch.to_json()
    assert document["parameters"] == {"c": 0.64, "k": 32.0}
    again = KllSketch.from_json(document)
    points = np.linspace(0, 1, 11)
    assert np.allclose(again.cdf(points), sketch.cdf(points))
    assert again.n == sum(len(level) << h for h, level in enumerate(document["data"]))
