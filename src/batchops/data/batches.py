"""A drifted copy of a real batch, derived from the dataset spec (the demo's third phase).

The spec's ``drift`` line says what to change (same syntax as ``data generate --drift``);
without one, :func:`default_drift` derives it from the spec: the first two numeric features
scaled by 1.6 and 1.5 (data-quality drift), and ground truth the model cannot meet — a
regression target shifted by three standard deviations of the training target, every
classification label moved to the next class. Values keep the file's layout: numbers are
written with the spec's ``decimals`` (or 6 significant digits), whole numbers as integers,
empty values stay empty.
"""

from __future__ import annotations

import csv
import io
import statistics
from pathlib import Path

from batchops.data.generate import UNSEEN, DriftOp, parse_drift
from batchops.data.schema import Layout
from batchops.data.spec import Column, DatasetSpec
from batchops.errors import DataError
from batchops.fs import atomic_write_text


def _rows(path: Path, header: bool) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return rows[1:] if header else rows


def training_labels(spec: DatasetSpec, training: Path) -> tuple[str, ...]:
    """The target's classes: the spec's list, else the training file's (first-seen order)."""
    if spec.labels is not None:
        return spec.labels
    seen: dict[str, None] = {}
    for row in _rows(training, spec.header):
        seen.setdefault(row[-1].strip(), None)
    return tuple(seen)


def default_drift(spec: DatasetSpec, training: Path) -> str:
    """The spec's ``drift`` line, or one derived from the spec and the training data."""
    if spec.drift:
        return spec.drift
    numeric = [f.name for f in spec.features if not f.categorical]
    ops = [f"{name}*{factor}" for name, factor in zip(numeric, ("1.6", "1.5"), strict=False)]
    if not ops:
        ops = [f"{spec.features[0].name}:flip=0.5"]
    if spec.classification:
        ops.append(f"{spec.target.name}:flip=1")
    else:
        values = [float(r[-1]) for r in _rows(training, spec.header) if r[-1].strip()]
        shift = 3 * statistics.pstdev(values) if len(values) > 1 else 1.0
        ops.append(f"{spec.target.name}+{shift:.4g}")
    return ",".join(ops)


def _number(column: Column, value: float) -> str:
    if column.integer:
        return str(round(value))
    if column.decimals is not None:
        return f"{value:.{column.decimals}f}"
    return f"{value:.6g}"


def _apply(column: Column, op: DriftOp, value: str, labels: tuple[str, ...], chosen: bool) -> str:
    if op.op in ("*", "+"):
        if not value.strip():
            return value
        try:
            number = float(value)
        except ValueError:
            return value
        return _number(column, number * op.value if op.op == "*" else number + op.value)
    if not chosen:
        return value
    if op.op == "missing":
        return ""
    if op.op == "invalid":
        return "X" if column.categorical else "n/a"
    if op.op == "unseen":
        return UNSEEN
    if value.strip() in labels:  # flip: the next class
        return labels[(labels.index(value.strip()) + 1) % len(labels)]
    return value


def drift_batch(
    spec: DatasetSpec,
    drift: str,
    inference: Path,
    ground_truth: Path,
    out: Path,
    *,
    labels: tuple[str, ...] = (),
) -> dict[Layout, Path]:
    """Write drifted copies of ``inference`` and ``ground_truth`` into ``out``."""
    import numpy as np

    ops = parse_drift(drift, spec)
    files = {Layout.INFERENCE: inference, Layout.GROUND_TRUTH: ground_truth}
    written: dict[Layout, Path] = {}
    rng = np.random.default_rng(0)
    for layout, path in files.items():
        names = layout.columns(spec)
        rows = _rows(path, spec.header)
        mine = [op for op in ops if op.column in names]
        for op in mine:
            index = names.index(op.column)
            column = spec.column(op.column)
            chosen = rng.random(len(rows)) < op.value
            for number, row in enumerate(rows):
                if len(row) != len(names):
                    raise DataError(
                        f"{path}: line {number + 1}: {len(row)} columns, expected {len(names)}"
                    )
                row[index] = _apply(column, op, row[index], labels, bool(chosen[number]))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if spec.header:
            writer.writerow(names)
        writer.writerows(rows)
        target = out / layout.filename
        atomic_write_text(target, buffer.getvalue())
        written[layout] = target
    return written
