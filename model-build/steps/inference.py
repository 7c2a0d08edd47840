"""Batch-transform handler packaged in ``model.tar.gz`` (``code/inference.py``).

Framework containers call ``model_fn`` once, then ``input_fn -> predict_fn -> output_fn``
per mini-batch. Input records are the article's ``inference-data.csv`` rows (sex and seven
measurements, raw); the transform fitted at training time (``transform.json``, saved with
the model) turns them into model features, so the transform is never refitted.

Every stage is vectorised (no Python loop per record): the payload is parsed by a CSV
reader written in C/Rust, the one-hot and scaling end in one float32 matrix for
``Booster.inplace_predict``, and ``output_fn`` formats all predictions with a single ``%``
operation and answers ``(body bytes, "text/csv")`` as the serving container expects.

Needs numpy, pandas and xgboost — what SageMaker's XGBoost framework image (1.7-1:
Python 3.8, pandas 1.x) has, so the script is kept Python 3.8 compatible. polars is
optional: when it imports (the local cloud), its multi-threaded reader parses the payload;
without it pandas' C reader does. Both paths give the same matrix, the same output bytes
and the same error for a malformed record (``tests/test_steps.py`` checks it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from typing import Any

import numpy as np
import xgboost as xgb

try:
    import polars as pl
except ImportError:  # SageMaker's framework images have no polars: the pandas path
    pl = None
    import pandas as pd

#: what polars' ``str.strip_chars()`` strips (Unicode White_Space); ``str.strip()`` of
#: Python also strips U+001C..U+001F, so the pandas path names the set
_WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: spellings of NaN polars reads as a number (pandas would reject them): NaN for pandas too
_NAN = [sign + a + b + c for sign in ("", "+", "-") for a in "nN" for b in "aA" for c in "nN"]
#: a measurement polars' reader accepts (leading blanks allowed, trailing ones not)
_NUMBER = re.compile(
    r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))\Z"
)
#: a blank, or a blank and a closing quote, ending a field: polars rejects it after a
#: measurement, pandas does not (a blank after the sex is harmless, and checked too)
_BLANK_ENDS = [b + q + e for b in (b" ", b"\t") for q in (b"", b'"') for e in (b",", b"\n", b"\r")]


def model_fn(model_dir: str) -> dict:
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
    with open(os.path.join(model_dir, "transform.json"), encoding="utf-8") as handle:
        transform = json.load(handle)
    return {"booster": booster, "transform": transform}


def _schema(width: int) -> dict[str, Any]:
    """Column 1 (sex) is text, every other field a float64 measurement."""
    return {"sex": pl.String, **{f"m{i}": pl.Float64 for i in range(1, width)}}


def input_fn(body: str | bytes, content_type: str = "text/csv") -> Any:
    """A mini-batch of CSV records as a frame (``sex`` + float64 measurements ``m1..``).

    A polars frame when polars is installed, else a pandas one. The field count comes
    from the first record; a later record with more fields, or a measurement that is not
    a number, is an error, and a missing field reads as null (which ``features`` reports
    as a missing measurement).
    """
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    data = data.lstrip(b"\r\n")
    if not data.strip():
        return _empty(1)
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8").rstrip("\r")
    try:
        width = len(next(csv.reader([first])))
    except csv.Error as exc:  # a lone carriage return, say
        raise ValueError(f"records are not CSV: {_problem(data, len(data)) or exc}") from None
    if pl is not None:
        try:
            return pl.read_csv(data, has_header=False, schema=_schema(width))
        except (pl.exceptions.PolarsError, ValueError):
            pass
    elif not _suspect(data) or _problem(data, width) is None:
        try:
            return _read_pandas(data, width)
        except ValueError:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
            pass
    problem = _problem(data, width)
    raise ValueError(
        f"records are not CSV with {width} fields of the expected types"
        + (f": {problem}" if problem else "")
    ) from None


def _names(width: int) -> list[str]:
    return ["sex"] + [f"m{i}" for i in range(1, width)]


def _empty(width: int) -> Any:
    if pl is not None:
        return pl.DataFrame(schema=_schema(width))
    return pd.DataFrame({name: [] for name in _names(width)})


def _read_pandas(data: bytes, width: int) -> Any:
    """pandas' C reader set to read what polars reads, as polars reads it."""
    names = _names(width)
    precise = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=names,
        index_col=False,
        dtype={"sex": object, **{name: np.float64 for name in names[1:]}},
        keep_default_na=False,
        na_values=["", *_NAN],
        skip_blank_lines=False,  # a blank line is a record of nulls, as in polars
        encoding="utf-8",
        engine="c",
        **precise,  # correctly rounded (pandas 3 always is; pandas 1.x needs asking)
    )


def _suspect(data: bytes) -> bool:
    """Whether ``data`` may hold text pandas' reader accepts and polars' does not.

    ``true``/``false`` (pandas reads 1/0), a blank after a measurement, a carriage return
    that does not end a line; plain substring searches, a few ms on a 6 MB payload.
    """
    lower = data.lower()
    return (
        b"true" in lower
        or b"false" in lower
        or data.count(b"\r") != data.count(b"\r\n")
        or (
            (b" " in data or b"\t" in data)  # one fast byte search: most payloads have none
            and (
                any(end in data for end in _BLANK_ENDS) or data.rstrip(b'"').endswith((b" ", b"\t"))
            )
        )
    )


def _problem(data: bytes, width: int) -> str | None:
    """The first record polars' reader rejects, described (``None`` when none is found).

    Only called on a payload that failed to parse (or that pandas would read more
    leniently than polars), so the error names the record the same way on both paths.
    """
    for number, line in enumerate(data.split(b"\n"), start=1):
        line = line[:-1] if line.endswith(b"\r") else line  # noqa: PLW2901
        if b"\r" in line:
            return f"record {number}: a carriage return inside the record"
        try:
            fields = next(csv.reader([line.decode("utf-8")]), [])
        except (UnicodeDecodeError, csv.Error) as exc:
            return f"record {number}: {exc}"
        if len(fields) > width:
            return f"record {number} has {len(fields)} fields"
        for column, value in enumerate(fields[1:], start=2):
            if value and not _NUMBER.match(value):
                return f"record {number}, field {column}: {value!r} is not a number"
    return None


def _frame(rows: Any, width: int) -> Any:
    """The frame ``input_fn`` makes; lists of string fields (one list a record) also do."""
    if not isinstance(rows, list):
        if len(rows) and rows.shape[1] != width:
            raise ValueError(f"record 1: expected {width} fields, got {rows.shape[1]}")
        return rows
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(row)}")
    numeric = np.array([r[1:] for r in rows], dtype=np.float64).reshape(len(rows), width - 1)
    sex = [str(r[0]) for r in rows]
    names = _names(width)
    if pl is not None:
        columns = {"sex": sex, **{names[i]: numeric[:, i - 1] for i in range(1, width)}}
        return pl.DataFrame(columns, schema=_schema(width))
    return pd.DataFrame(
        {
            "sex": pd.Series(sex, dtype=object),
            **{names[i]: numeric[:, i - 1] for i in range(1, width)},
        }
    )


def features(transform: dict, rows: Any) -> np.ndarray:
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


def _matrix(frame: Any, transform: dict, strip: bool) -> np.ndarray:
    """Columns written one at a time into a C-order float32 matrix (no wide temporaries)."""
    categories = transform["categories"]["sex"]
    rows, width = frame.shape
    matrix = np.empty((rows, len(categories) + width - 1), dtype=np.float32)
    polars = pl is not None and isinstance(frame, pl.DataFrame)
    if polars:
        sex = frame.get_column(frame.columns[0])
        sex = sex.str.strip_chars() if strip else sex
    else:
        sex = frame.iloc[:, 0]
        sex = sex.str.strip(_WHITESPACE) if strip else sex
    for column, category in enumerate(categories):
        same = sex == category
        matrix[:, column] = same.fill_null(False).to_numpy() if polars else same.to_numpy()
    if len(transform["mean"]) != width - 1 or len(transform["scale"]) != width - 1:
        raise ValueError(
            f"transform has {len(transform['mean'])} measurements, records {width - 1}"
        )
    for index, (mean, scale) in enumerate(zip(transform["mean"], transform["scale"])):
        values = frame.get_column(frame.columns[index + 1]) if polars else frame.iloc[:, index + 1]
        # float64 arithmetic, rounded to float32 on assignment, as at training time
        matrix[:, len(categories) + index] = (values.to_numpy() - float(mean)) / float(scale)
    return matrix


def predict_fn(rows: pl.DataFrame | list[list[str]], model: dict) -> np.ndarray:
    if len(rows) == 0:
        return np.empty(0, dtype=np.float32)
    return model["booster"].inplace_predict(features(model["transform"], rows))


#: what ``output_fn`` writes; ``*/*`` is the container's default accept for CSV models
CSV = "text/csv"


def output_fn(predictions: np.ndarray, accept: str = CSV) -> tuple[bytes, str]:
    """The response as SageMaker's XGBoost serving container expects it: ``(body, type)``.

    The container (``sagemaker_inference``'s transformer, which the XGBoost image's
    ``XGBMMSTransformer`` follows) takes a ``(response, content type)`` tuple and sets the
    response's ``Content-Type`` from it; its own default ``output_fn`` returns CSV encoded
    as UTF-8 bytes. So the body is bytes, one prediction a line (``"%.4f"``), and any
    ``Accept`` other than CSV is refused rather than answered with CSV under another name.
    """
    if accept not in (CSV, "*/*") and not accept.startswith(CSV + ";"):
        raise ValueError(f"unsupported accept type {accept!r}; this model answers {CSV}")
    return format_predictions(predictions).encode("ascii"), CSV


def format_predictions(predictions: np.ndarray) -> str:
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
