"""Seeded synthetic data for any dataset spec, with controllable drift.

Rows come from :mod:`batchops.data.synthetic` (the calibrated Abalone model, or the generic
model for any other spec); this module applies drift and writes the article's three files.
Drift (``--drift``) is a comma-separated list of operations applied to the inference batch
and its ground truth before writing, so tests and the demo can make batches that must trip
the data-quality and model-quality checks:

* ``height*1.6`` scale a numeric column, ``length+0.05`` shift it, ``rings+4`` shift a
  regression target (ground truth a model trained before cannot meet);
* ``diameter:missing=0.2`` blank 20% of a column's values;
* ``shucked_weight:invalid=0.2`` replace 20% with the text ``n/a`` (``X`` in a
  categorical column);
* ``sex:flip=0.5`` move 50% of a categorical column's values to the next category, and
  ``label:flip=1`` every label of a classification target to the next class (predictions
  that were right become wrong);
* ``sex:unseen=0.1`` replace 10% with a category training never saw (``unseen``).

Column names (case and ``-``/space insensitive) or Model Monitor names (``_c3``) are
accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from batchops.data import synthetic
from batchops.data.drift_ops import DriftOp
from batchops.data.drift_ops import parse_drift as parse_ops
from batchops.data.schema import Layout
from batchops.data.spec import DatasetSpec, current_spec
from batchops.fs import atomic_write_text

UNSEEN = "unseen"


def parse_drift(text: str | None, spec: DatasetSpec | None = None) -> tuple[DriftOp, ...]:
    """Parse a drift line against ``spec`` (default: the current spec)."""
    return parse_ops(text, spec or current_spec())


def apply_drift(
    columns: dict[str, np.ndarray],
    ops: tuple[DriftOp, ...],
    rng: np.random.Generator,
    spec: DatasetSpec | None = None,
) -> pl.DataFrame:
    """A frame of text-ready columns with the drift operations applied."""
    spec = spec or current_spec()
    frame = pl.DataFrame(columns)
    for op in ops:
        if op.op == "*":
            frame = frame.with_columns(pl.col(op.column) * op.value)
        elif op.op == "+":
            frame = frame.with_columns(pl.col(op.column) + op.value)
    rounded = []
    for name in frame.columns:
        column = spec.column(name)
        if column.categorical:
            continue
        if column.integer:
            low = 1 if spec.generator == "abalone" else column.min
            expr = pl.col(name).round(0).clip(low, column.max)
            rounded.append(expr.cast(pl.Int64))
        else:
            decimals = column.decimals if column.decimals is not None else 4
            rounded.append(pl.col(name).clip(column.min, column.max).round(decimals))
    frame = frame.with_columns(rounded)
    for op in ops:
        if op.op in ("*", "+"):
            continue
        mask = pl.Series(rng.random(frame.height) < op.value)
        text = pl.col(op.column).cast(pl.String)
        if op.op == "flip":
            values = synthetic.default_categories(spec, spec.column(op.column))
            following = {v: values[(i + 1) % len(values)] for i, v in enumerate(values)}
            moved = text.replace_strict(following, default=text, return_dtype=pl.String)
            frame = frame.with_columns(pl.when(mask).then(moved).otherwise(text).alias(op.column))
            continue
        if op.op == "unseen":
            marker: str | None = UNSEEN
        elif op.op == "missing":
            marker = None
        else:
            marker = "X" if spec.column(op.column).categorical else "n/a"
        frame = frame.with_columns(
            pl.when(mask).then(pl.lit(marker, pl.String)).otherwise(text).alias(op.column)
        )
    return frame


def _csv(frame: pl.DataFrame, names: tuple[str, ...], header: bool) -> str:
    return frame.select(names).write_csv(include_header=header, null_value="")


@dataclass(frozen=True)
class Generated:
    files: dict[Layout, Path]
    rows: dict[Layout, int]
    drift: tuple[DriftOp, ...]


def generate(
    out_dir: Path,
    *,
    rows: int,
    seed: int = 0,
    inference_rows: int | None = None,
    drift: str | None = None,
    layouts: tuple[Layout, ...] = tuple(Layout),
    spec: DatasetSpec | None = None,
) -> Generated:
    """Write the article's three files for ``spec`` (default: the current spec).

    Training and inference rows are independent draws; drift is applied to the
    inference batch and its ground truth only (training data stays the clean
    reference), unless only the training layout is asked for.
    """
    spec = spec or current_spec()
    ops = parse_drift(drift, spec)
    rng = np.random.default_rng(seed)
    inference_rows = inference_rows if inference_rows is not None else max(rows // 3, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = apply_drift(
        synthetic.sample(spec, rows, rng), ops if layouts == (Layout.TRAINING,) else (), rng, spec
    )
    batch = apply_drift(synthetic.sample(spec, inference_rows, rng), ops, rng, spec)
    files: dict[Layout, Path] = {}
    counts: dict[Layout, int] = {}
    for layout in layouts:
        source = train if layout is Layout.TRAINING else batch
        path = out_dir / layout.filename
        atomic_write_text(path, _csv(source, layout.columns(spec), spec.header))
        files[layout] = path
        counts[layout] = rows if layout is Layout.TRAINING else inference_rows
    return Generated(files, counts, ops)
