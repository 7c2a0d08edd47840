"""Batch-transform handler packaged in ``model.tar.gz`` (``code/inference.py``).

Framework containers call ``model_fn`` once, then ``input_fn -> predict_fn -> output_fn``
per mini-batch. Input records are the article's ``inference-data.csv`` rows (sex and seven
measurements, raw); the transform fitted at training time (``transform.json``, saved with
the model) turns them into model features, so the transform is never refitted.

Every stage is vectorised (no Python loop per record): polars' multi-threaded CSV reader
parses the payload, the one-hot and scaling are polars expressions that end in one float32
matrix for ``Booster.inplace_predict``, and ``output_fn`` formats all predictions with a
single ``%`` operation.
"""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import polars as pl
import xgboost as xgb


def model_fn(model_dir: str) -> dict:
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
    with open(os.path.join(model_dir, "transform.json"), encoding="utf-8") as handle:
        transform = json.load(handle)
    return {"booster": booster, "transform": transform}


def _schema(width: int) -> dict[str, type[pl.DataType]]:
    """Column 1 (sex) is text, every other field a float64 measurement."""
    return {"sex": pl.String, **{f"m{i}": pl.Float64 for i in range(1, width)}}


def input_fn(body: str | bytes, content_type: str = "text/csv") -> pl.DataFrame:
    """A mini-batch of CSV records as a frame (``sex`` + float64 measurements ``m1..``).

    The field count comes from the first record; a later record with more fields, or a
    measurement that is not a number, is an error, and a missing field reads as null
    (which ``features`` reports as a missing measurement).
    """
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    data = data.lstrip(b"\r\n")
    if not data.strip():
        return pl.DataFrame(schema=_schema(1))
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    width = len(next(csv.reader([first])))
    try:
        return pl.read_csv(data, has_header=False, schema=_schema(width))
    except (pl.exceptions.PolarsError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"records are not CSV with {width} fields of the expected types: {detail}"
        ) from None


def _frame(rows: pl.DataFrame | list[list[str]], width: int) -> pl.DataFrame:
    """The frame ``input_fn`` makes; lists of string fields (one list a record) also do."""
    if isinstance(rows, pl.DataFrame):
        if rows.height and rows.width != width:
            raise ValueError(f"record 1: expected {width} fields, got {rows.width}")
        return rows
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(row)}")
    numeric = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), width - 1)
    return pl.DataFrame(
        {"sex": [str(r[0]) for r in rows], **{f"m{i}": numeric[:, i - 1] for i in range(1, width)}},
        schema=_schema(width),
    )


def features(transform: dict, rows: pl.DataFrame | list[list[str]]) -> np.ndarray:
    """The model's feature matrix: one-hot sex + the scaled measurements, float32, C order.

    Scaling runs in float64 and is then rounded to float32, as at training time; a sex
    value is compared with surrounding blanks stripped, and an unknown one is all zeros in
    the one-hot columns.
    """
    frame = _frame(rows, len(transform["features"]))
    categories = transform["categories"]["sex"]
    matrix = _matrix(frame, transform, strip=False)
    # each row has at most one 1 among the one-hot columns: a sum short of the row count
    # means a sex not found as written (rare: " M", or an unknown value)
    if matrix[:, : len(categories)].sum(dtype=np.float64) != len(matrix):
        matrix = _matrix(frame, transform, strip=True)
    if np.isnan(matrix).any():
        bad = np.isnan(matrix).any(axis=1)
        raise ValueError(f"record {int(np.argmax(bad)) + 1}: a measurement is missing")
    return matrix


def _matrix(frame: pl.DataFrame, transform: dict, strip: bool) -> np.ndarray:
    """Columns written one at a time into a C-order float32 matrix (no wide temporaries)."""
    categories = transform["categories"]["sex"]
    matrix = np.empty((frame.height, len(categories) + frame.width - 1), dtype=np.float32)
    sex = frame.get_column(frame.columns[0])
    if strip:
        sex = sex.str.strip_chars()
    for column, category in enumerate(categories):
        matrix[:, column] = (sex == category).fill_null(False).to_numpy()
    measures = zip(frame.columns[1:], transform["mean"], transform["scale"], strict=True)
    for column, (name, mean, scale) in enumerate(measures, start=len(categories)):
        # float64 arithmetic, rounded to float32 on assignment, as at training time
        matrix[:, column] = (frame.get_column(name).to_numpy() - float(mean)) / float(scale)
    return matrix


def predict_fn(rows: pl.DataFrame | list[list[str]], model: dict) -> np.ndarray:
    if len(rows) == 0:
        return np.empty(0, dtype=np.float32)
    return model["booster"].inplace_predict(features(model["transform"], rows))


def output_fn(predictions: np.ndarray, accept: str = "text/csv") -> str:
    """One prediction a line with four decimals, exactly as ``"%.4f"`` writes them."""
    values = np.asarray(predictions).ravel()
    if (
        values.dtype == np.float32
        and len(values)
        and np.isfinite(values).all()
        and np.abs(values).max() < 1e9
    ):
        return _fixed4(values)
    return ("%.4f\n" * len(values)) % tuple(values.tolist())


def _fixed4(values: np.ndarray) -> str:
    """``"%.4f\n"`` for finite float32 values below 1e9, built as one byte matrix.

    A float32 has a 24-bit significand and 10,000 = 2^4 x 625 needs 10 bits, so
    ``float64(v) * 10000`` is exact and ``rint`` of it (ties to even) is precisely the
    rounding Python's correctly rounded ``%.4f`` does. The digits of that integer fill
    columns of a (records x width) matrix; leading zeros are dropped by a mask.
    """
    exact = values.astype(np.float64)
    scaled = np.abs(np.rint(exact * 10_000.0))
    digits = max(len(str(int(scaled.max()))), 5)  # at least one integer digit + 4 decimals
    rest = scaled.astype(np.int64 if digits > 9 else np.int32)
    width = digits + 3  # sign, integer digits, point, decimals, newline
    chars = np.empty((len(values), width), np.uint8)
    chars[:, 0] = ord("-")
    chars[:, digits - 3] = ord(".")
    chars[:, width - 1] = ord("\n")
    for place in range(digits - 1, -1, -1):
        rest, digit = np.divmod(rest, 10)
        chars[:, place + 1 if place < digits - 4 else place + 2] = digit + ord("0")
    keep = np.ones(chars.shape, dtype=bool)
    keep[:, 0] = np.signbit(exact)  # "-0.0000" too, as %.4f writes it
    leading = np.ones(len(values), dtype=bool)
    for place in range(1, digits - 4):  # zeros before the last integer digit
        leading &= chars[:, place] == ord("0")
        keep[:, place] = ~leading
    return chars[keep].tobytes().decode("ascii")
