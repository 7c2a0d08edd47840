"""Seeded generator of realistic Abalone-schema data with controllable drift.

The project ships no data set fetched from elsewhere. Instead this module draws animals
from a small biological model calibrated on the published summary of the UCI Abalone
data (Nash et al., 1994): sex shares M 37% / F 31% / I 32%; age (rings) by sex; shell
length from a von Bertalanffy growth curve with individual asymptotes; diameter and
height proportional to length; weights allometric in length (~L^3) with the shell share
growing with age. What matters downstream holds: measurements are strongly correlated,
rings are learnable but noisy (a good gradient-boosted model reaches RMSE ~2.1-2.3, as on
the real data), and the same seed always gives the same bytes.

Drift (``--drift``) is a comma-separated list of operations applied to the generated
frame before writing, so tests and the demo can make batches that must trip the
data-quality and model-quality checks:

* ``height*1.6`` scale a numeric column, ``length+0.05`` shift it;
* ``diameter:missing=0.2`` blank 20% of a column's values;
* ``shucked_weight:invalid=0.2`` replace 20% with the text ``n/a`` (``sex:invalid`` uses ``X``);
* ``rings+4`` shifts the target, i.e. ground truth a model trained before cannot meet.

Column names or Model Monitor names (``_c3``) are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from batchops.data.schema import COLUMN_SPECS, COLUMNS, FEATURES, TARGET, Layout, resolve_column
from batchops.errors import DataError
from batchops.fs import atomic_write_text

_SEX_SHARE = {"M": 0.366, "F": 0.313, "I": 0.321}
# mean, std of rings by sex (real data: I 7.9/2.5, M 10.7/3.0, F 11.1/3.1)
_RINGS = {"M": (10.7, 3.0), "F": (11.1, 3.1), "I": (7.9, 2.5)}
# asymptotic shell length (m/100) by sex
_L_INF = {"M": 0.70, "F": 0.71, "I": 0.68}


@dataclass(frozen=True)
class DriftOp:
    column: str
    op: str  # "*", "+", "missing", "invalid"
    value: float

    def describe(self) -> str:
        if self.op in ("*", "+"):
            return f"{self.column}{self.op}{self.value:g}"
        return f"{self.column}:{self.op}={self.value:g}"


_OP = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_ -]*?)\s*"
    r"(?:(?P<arith>[*+])\s*(?P<num>[-+]?\d*\.?\d+)|:(?P<kind>missing|invalid)=(?P<frac>\d*\.?\d+))\s*$"
)


def parse_drift(spec: str | None) -> tuple[DriftOp, ...]:
    """Parse ``"height*1.6,rings+4"``; one clear error per bad item."""
    if not spec:
        return ()
    ops = []
    for item in spec.split(","):
        match = _OP.match(item)
        if not match:
            raise DataError(
                f"--drift item {item.strip()!r}: expected COLUMN*FACTOR, COLUMN+SHIFT, "
                "COLUMN:missing=FRACTION or COLUMN:invalid=FRACTION"
            )
        try:
            column = resolve_column(match["col"])
        except ValueError as exc:
            raise DataError(f"--drift item {item.strip()!r}: {exc}") from None
        if match["arith"]:
            if column == "sex":
                raise DataError(f"--drift item {item.strip()!r}: sex is categorical")
            ops.append(DriftOp(column, match["arith"], float(match["num"])))
        else:
            fraction = float(match["frac"])
            if not 0 <= fraction <= 1:
                raise DataError(f"--drift item {item.strip()!r}: fraction must be in [0, 1]")
            ops.append(DriftOp(column, match["kind"], fraction))
    return tuple(ops)


def sample_abalone(rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``rows`` animals; returns column arrays (sex as str, the rest float)."""
    if rows < 1:
        raise DataError(f"--rows must be at least 1, got {rows}")
    sexes = list(_SEX_SHARE)
    code = rng.choice(len(sexes), size=rows, p=np.array(list(_SEX_SHARE.values())))
    mean = np.array([_RINGS[s][0] for s in sexes])[code]
    std = np.array([_RINGS[s][1] for s in sexes])[code]
    shape = (mean / std) ** 2
    rings = np.clip(np.round(rng.gamma(shape, mean / shape)), 1, 29)

    l_inf = np.array([_L_INF[s] for s in sexes])[code] * np.exp(rng.normal(0, 0.08, rows))
    rate = 0.16 * np.exp(rng.normal(0, 0.30, rows))
    # size follows the animal's biological age, which rings only estimate
    bio_age = rings * np.exp(rng.normal(0, 0.18, rows))
    growth = 1 - np.exp(-rate * (bio_age - 0.5))
    length = np.clip(l_inf * growth * np.exp(rng.normal(0, 0.06, rows)), 0.075, 0.815)
    diameter = np.clip(0.78 * length * np.exp(rng.normal(0, 0.035, rows)), 0.055, 0.65)
    height = np.clip(0.265 * length * np.exp(rng.normal(0, 0.09, rows)), 0.0, 1.13)
    whole = np.clip(4.7 * length**2.9 * np.exp(rng.normal(0, 0.11, rows)), 0.002, 2.83)
    age_share = np.clip((bio_age - 9.0) / 20.0, -0.3, 0.6)
    shucked = whole * 0.43 * (1 - 0.35 * age_share) * np.exp(rng.normal(0, 0.08, rows))
    viscera = whole * 0.215 * np.exp(rng.normal(0, 0.1, rows))
    shell = whole * 0.285 * (1 + 0.6 * age_share) * np.exp(rng.normal(0, 0.08, rows))
    return {
        "sex": np.array(sexes)[code],
        "length": length,
        "diameter": diameter,
        "height": height,
        "whole_weight": whole,
        "shucked_weight": shucked,
        "viscera_weight": viscera,
        "shell_weight": shell,
        "rings": rings,
    }


def apply_drift(
    columns: dict[str, np.ndarray], ops: tuple[DriftOp, ...], rng: np.random.Generator
) -> pl.DataFrame:
    """A frame of text-ready columns with the drift operations applied."""
    frame = pl.DataFrame(columns)
    for op in ops:
        if op.op == "*":
            frame = frame.with_columns(pl.col(op.column) * op.value)
        elif op.op == "+":
            frame = frame.with_columns(pl.col(op.column) + op.value)
    rounded = []
    for name in frame.columns:
        spec = COLUMN_SPECS[name]
        if spec.kind == "float":
            rounded.append(pl.col(name).round(spec.decimals))
        elif spec.kind == "int":
            rounded.append(pl.col(name).round(0).clip(1, None).cast(pl.Int64))
    frame = frame.with_columns(rounded)
    for op in ops:
        if op.op in ("missing", "invalid"):
            mask = pl.Series(rng.random(frame.height) < op.value)
            text = pl.col(op.column).cast(pl.String)
            marker = None if op.op == "missing" else ("X" if op.column == "sex" else "n/a")
            frame = frame.with_columns(
                pl.when(mask).then(pl.lit(marker, pl.String)).otherwise(text).alias(op.column)
            )
    return frame


def _csv(frame: pl.DataFrame, names: tuple[str, ...]) -> str:
    return frame.select(names).write_csv(include_header=False, null_value="")


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
) -> Generated:
    """Write the article's three files into ``out_dir``.

    Training and inference rows are independent draws; drift is applied to the
    inference batch and its ground truth only (training data stays the clean
    reference), unless only the training layout is asked for.
    """
    ops = parse_drift(drift)
    rng = np.random.default_rng(seed)
    inference_rows = inference_rows if inference_rows is not None else max(rows // 3, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = apply_drift(
        sample_abalone(rows, rng), ops if layouts == (Layout.TRAINING,) else (), rng
    )
    batch = apply_drift(sample_abalone(inference_rows, rng), ops, rng)
    files: dict[Layout, Path] = {}
    counts: dict[Layout, int] = {}
    for layout in layouts:
        source = train if layout is Layout.TRAINING else batch
        path = out_dir / layout.filename
        names = {
            Layout.TRAINING: COLUMNS,
            Layout.INFERENCE: FEATURES,
            Layout.GROUND_TRUTH: (TARGET,),
        }
        atomic_write_text(path, _csv(source, names[layout]))
        files[layout] = path
        counts[layout] = rows if layout is Layout.TRAINING else inference_rows
    return Generated(files, counts, ops)
