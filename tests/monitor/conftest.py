"""Abalone-layout data for the monitor tests, generated once per session (seeded)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.monitor.dataquality import suggest_baseline

DATA = Path(__file__).parent / "data"
BASELINE_ROWS = 4177  # the size of the UCI Abalone data set


@dataclass(frozen=True)
class Abalone:
    """A baseline dataset (inference layout: 8 features) and its Model Monitor baseline."""

    data: Path
    baseline: Path

    @property
    def statistics(self) -> Path:
        return self.baseline / "statistics.json"

    @property
    def constraints(self) -> Path:
        return self.baseline / "constraints.json"


def inference_batch(folder: Path, *, seed: int, rows: int = 1000, drift: str | None = None) -> Path:
    """An independent inference batch drawn by the project's generator."""
    result = generate(
        folder, rows=rows, inference_rows=rows, seed=seed, drift=drift, layouts=(Layout.INFERENCE,)
    )
    return result.files[Layout.INFERENCE]


def resample(source: Path, target: Path, *, rows: int, seed: int) -> Path:
    """Rows drawn with replacement from a headerless CSV (a bootstrap resample)."""
    frame = pl.read_csv(source, has_header=False)
    index = np.random.default_rng(seed).integers(0, frame.height, rows)
    frame[index].write_csv(target, include_header=False)
    return target


@pytest.fixture(scope="session")
def abalone(tmp_path_factory: pytest.TempPathFactory) -> Abalone:
    folder = tmp_path_factory.mktemp("abalone")
    data = inference_batch(folder / "data", seed=11, rows=BASELINE_ROWS)
    suggest_baseline(data, folder / "baseline")
    return Abalone(data, folder / "baseline")
