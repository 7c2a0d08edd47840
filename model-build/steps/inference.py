"""Batch-transform handler packaged in ``model.tar.gz`` (``code/inference.py``).

Framework containers call ``model_fn`` once, then ``input_fn -> predict_fn -> output_fn``
per mini-batch. Input records are the article's ``inference-data.csv`` rows (the dataset
spec's features, raw, in file order); the transform fitted at training time
(``transform.json``, saved with the model) turns them into model features, so the
transform is never refitted:

* numeric columns: a missing value (empty field, ``nan``) is imputed with the train split's
  median, then standardised as at training time;
* categorical columns: one-hot (or ordinal) over the categories training saw; a value is
  compared with surrounding blanks stripped; a missing one is imputed with the most
  frequent category; a category training never saw encodes as all zeros (ordinal:
  missing) and is *counted* — a warning line on stderr (the job's CloudWatch log) per
  mini-batch — never a crash.

A record with the wrong number of fields, or a numeric field that is not a number, is an
error naming the record and the field. The output is one line per record: the regression
value (``%.4f``), or for classification the predicted label — with the positive class's
probability for binary classification (``label,0.9731``).

Every stage is vectorised (no Python loop per record): the payload is parsed by a CSV
reader written in C/Rust, the encoding ends in one float32 matrix for
``Booster.inplace_predict``, and ``output_fn`` formats all predictions in one operation
and answers ``(body bytes, "text/csv")`` as the serving container expects.

Needs numpy, pandas and xgboost — what SageMaker's XGBoost framework image (1.7-1:
Python 3.8, pandas 1.x) has, so the script is kept Python 3.8 compatible. polars is
optional: when it imports (the local cloud), its multi-threaded reader parses the payload;
without it pandas' C reader does. Both paths give the same matrix, the same output bytes
and the same error for a malformed record (``tests/test_inference_paths.py`` checks it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sys
from collections import Counter
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
#: a number polars' reader accepts (leading blanks allowed, trailing ones not)
_NUMBER = re.compile(
    r"[ \t]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|(?i:inf|infinity|nan))\Z"
)
#: a blank, or a blank and a closing quote, ending a field: polars rejects it after a
#: number, pandas does not (a blank after a category is harmless, and checked too)
_BLANK_ENDS = [b + q + e for b in (b" ", b"\t") for q in (b"", b'"') for e in (b",", b"\n", b"\r")]
#: unseen categories named in one warning line, at most
_UNSEEN_SHOWN = 5


class Payload:
    """A mini-batch as ``input_fn`` received it: parsed by ``predict_fn``, which knows the
    transform (``input_fn`` is called without the model)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __len__(self) -> int:
        return (
            0 if not self.data.strip() else self.data.count(b"\n") + (not self.data.endswith(b"\n"))
        )


def model_fn(model_dir: str) -> dict:
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
    with open(os.path.join(model_dir, "transform.json"), encoding="utf-8") as handle:
        transform = json.load(handle)
    return {"booster": booster, "transform": transform}


def input_fn(body: Any, content_type: str = "text/csv") -> Payload:
    """The mini-batch's bytes; parsing needs the transform, so ``predict_fn`` does it."""
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return Payload(data.lstrip(b"\r\n"))


# ----- parsing ------------------------------------------------------------------------------
def _kinds(transform: dict[str, Any]) -> list[str]:
    return [c["type"] for c in transform["columns"]]


def _names(width: int) -> list[str]:
    return [f"c{i}" for i in range(width)]


def _schema(kinds: list[str]) -> dict[str, Any]:
    return {
        name: pl.String if kind == "categorical" else pl.Float64
        for name, kind in zip(_names(len(kinds)), kinds)
    }


def parse(transform: dict[str, Any], data: bytes) -> Any:
    """A mini-batch of CSV records as a frame: text for categorical fields, float64 else.

    A polars frame when polars is installed, else a pandas one. A record with more or
    fewer fields than the transform's columns, or a numeric field that is not a number,
    is an error; an empty field reads as null (a missing value, imputed by ``features``).
    """
    kinds = _kinds(transform)
    width = len(kinds)
    if not data.strip():
        return _empty(kinds)
    _check_field_counts(data, width)
    if pl is not None:
        try:
            frame = pl.read_csv(data, has_header=False, schema=_schema(kinds))
        except (pl.exceptions.PolarsError, ValueError):
            frame = None
    elif not _suspect(data) or _problem(data, kinds) is None:
        try:
            frame = _read_pandas(data, kinds)
        except ValueError:  # pandas' ParserError and UnicodeDecodeError are ValueErrors
            frame = None
    else:
        frame = None
    if frame is None:
        problem = _problem(data, kinds)
        raise ValueError(
            f"records are not CSV with {width} fields of the expected types"
            + (f": {problem}" if problem else "")
        ) from None
    return frame


def _empty(kinds: list[str]) -> Any:
    if pl is not None:
        return pl.DataFrame(schema=_schema(kinds))
    return pd.DataFrame({name: [] for name in _names(len(kinds))})


def _read_pandas(data: bytes, kinds: list[str]) -> Any:
    """pandas' C reader set to read what polars reads, as polars reads it."""
    names = _names(len(kinds))
    precise = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    text = [n for n, k in zip(names, kinds) if k == "categorical"]
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=names,
        index_col=False,
        dtype={n: (object if k == "categorical" else np.float64) for n, k in zip(names, kinds)},
        keep_default_na=False,
        na_values={n: ([""] if n in text else ["", *_NAN]) for n in names},
        skip_blank_lines=False,  # a blank line is a record of nulls, as in polars
        encoding="utf-8",
        engine="c",
        **precise,  # correctly rounded (pandas 3 always is; pandas 1.x needs asking)
    )


def _suspect(data: bytes) -> bool:
    """Whether ``data`` may hold text pandas' reader accepts and polars' does not.

    ``true``/``false`` (pandas reads 1/0), a blank after a number, a carriage return that
    does not end a line; plain substring searches, a few ms on a 6 MB payload.
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


def _records(data: bytes) -> Any:
    for number, line in enumerate(data.split(b"\n"), start=1):
        yield number, line[:-1] if line.endswith(b"\r") else line


def _problem(data: bytes, kinds: list[str]) -> str | None:
    """The first record polars' reader rejects, described (``None`` when none is found).

    Only called on a payload that failed to parse (or that pandas would read more
    leniently than polars), so the error names the record the same way on both paths.
    """
    width = len(kinds)
    for number, line in _records(data):
        if b"\r" in line:
            return f"record {number}: a carriage return inside the record"
        try:
            fields = next(csv.reader([line.decode("utf-8")]), [])
        except (UnicodeDecodeError, csv.Error) as exc:
            return f"record {number}: {exc}"
        if len(fields) > width:
            return f"record {number} has {len(fields)} fields"
        for column, (value, kind) in enumerate(zip(fields, kinds), start=1):
            if kind == "numeric" and value and not _NUMBER.match(value):
                return f"record {number}, field {column}: {value!r} is not a number"
    return None


def _check_field_counts(data: bytes, width: int) -> None:
    """A record with more or fewer fields than the transform's columns, named.

    Checked before either reader runs: polars fills a short record with nulls (which
    would pass for missing values) and pandas drops the fields of a long first record.
    One byte count settles the usual case (every record has ``width - 1`` commas); quoted
    commas or a wrong count send it to a per-record scan.
    """
    body = data[:-1] if data.endswith(b"\n") else data
    records = body.count(b"\n") + 1
    if body.count(b",") == records * (width - 1) and b'"' not in body:
        return
    for number, line in _records(body):
        try:
            fields = next(csv.reader([line.decode("utf-8", "replace")]), [])
        except csv.Error:  # a stray carriage return: the readers name it
            return
        if len(fields) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(fields)}")


def _frame(transform: dict[str, Any], rows: Any) -> Any:
    """The frame ``parse`` makes, from a Payload, a frame, or lists of string fields."""
    kinds = _kinds(transform)
    width = len(kinds)
    if isinstance(rows, Payload):
        return parse(transform, rows.data)
    if not isinstance(rows, list):
        if len(rows) and rows.shape[1] != width:
            raise ValueError(f"record 1: expected {width} fields, got {rows.shape[1]}")
        return rows
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(row)}")
    names = _names(width)
    columns: dict[str, Any] = {}
    for index, (name, kind) in enumerate(zip(names, kinds)):
        values = [r[index] for r in rows]
        if kind == "categorical":
            columns[name] = [None if v is None or str(v) == "" else str(v) for v in values]
        else:
            columns[name] = np.array(
                [np.nan if v is None or str(v).strip() == "" else float(v) for v in values],
                dtype=np.float64,
            )
    if pl is not None:
        return pl.DataFrame(columns, schema=_schema(kinds))
    return pd.DataFrame(
        {
            n: pd.Series(v, dtype=object) if k == "categorical" else v
            for (n, v), k in zip(columns.items(), kinds)
        }
    )


# ----- features -----------------------------------------------------------------------------
def _width(column: dict[str, Any]) -> int:
    if column["type"] == "categorical" and column["encoding"] == "onehot":
        return len(column["categories"])
    return 1


def features(transform: dict[str, Any], rows: Any, unseen: Counter | None = None) -> np.ndarray:
    """The model's feature matrix, float32, C order, columns as at training time.

    Scaling runs in float64 and is then rounded to float32, as at training time. Categories
    training never saw are added to ``unseen`` (``(column, value) -> count``) when given.
    """
    frame = _frame(transform, rows)
    polars = pl is not None and isinstance(frame, pl.DataFrame)
    count = len(frame)
    matrix = np.empty((count, sum(_width(c) for c in transform["columns"])), dtype=np.float32)
    start = 0
    for index, column in enumerate(transform["columns"]):
        series = frame.get_column(frame.columns[index]) if polars else frame.iloc[:, index]
        if column["type"] == "numeric":
            values = series.to_numpy()
            # float64 arithmetic, rounded to float32 on assignment, as at training time
            if np.isnan(values).any():
                values = np.where(np.isnan(values), float(column["impute"]), values)
            matrix[:, start] = (values - float(column["mean"])) / float(column["scale"])
        else:
            _categorical(matrix, start, series, column, polars=polars, unseen=unseen)
        start += _width(column)
    return matrix


def _strip(series: Any, polars: bool) -> Any:
    return series.str.strip_chars() if polars else series.str.strip(_WHITESPACE)


def _categorical(
    matrix: np.ndarray,
    start: int,
    series: Any,
    column: dict[str, Any],
    *,
    polars: bool,
    unseen: Counter | None,
) -> None:
    """One categorical column into ``matrix[:, start:...]``; missing imputed, unseen counted."""
    categories = column["categories"]
    if column["encoding"] == "ordinal":
        codes = _codes(series, categories, polars)
        if (codes < 0).any():
            codes = _codes(_strip(series, polars), categories, polars)
        missing = _missing(series, polars)
        codes = np.where(missing, categories.index(column["impute"]), codes)
        matrix[:, start] = np.where(codes < 0, np.nan, codes)
        _count(unseen, column, series, (codes < 0) & ~missing, polars)
        return
    block = slice(start, start + len(categories))
    _onehot(matrix, start, series, categories, polars)
    # each row has at most one 1 in the block: a sum short of the row count means a value
    # not found as written (rare: " M", a missing value or a category training never saw)
    if matrix[:, block].sum(dtype=np.float64) == len(matrix):
        return
    stripped = _strip(series, polars)
    _onehot(matrix, start, stripped, categories, polars)
    empty = _missing(stripped, polars)
    if empty.any():
        matrix[empty, start + categories.index(column["impute"])] = 1.0
    _count(unseen, column, series, (matrix[:, block].sum(axis=1) == 0) & ~empty, polars)


def _onehot(
    matrix: np.ndarray, start: int, series: Any, categories: list[str], polars: bool
) -> None:
    for offset, category in enumerate(categories):
        same = series == category
        matrix[:, start + offset] = same.fill_null(False).to_numpy() if polars else same.to_numpy()


def _codes(series: Any, categories: list[str], polars: bool) -> np.ndarray:
    mapping = {c: i for i, c in enumerate(categories)}
    if polars:
        coded = series.replace_strict(mapping, default=-1, return_dtype=pl.Int64).fill_null(-1)
        return coded.to_numpy()
    return series.map(mapping).fillna(-1).to_numpy(dtype=np.int64)


def _missing(series: Any, polars: bool) -> np.ndarray:
    if polars:
        return (series.is_null() | (series == "")).fill_null(True).to_numpy()
    return (series.isna() | (series == "")).to_numpy()


def _count(
    unseen: Counter | None, column: dict[str, Any], series: Any, mask: np.ndarray, polars: bool
) -> None:
    if unseen is None or not mask.any():
        return
    values = series.filter(pl.Series(mask)) if polars else series[mask]
    for value in values.to_list():
        unseen[(column["name"], str(value))] += 1


# ----- predictions --------------------------------------------------------------------------
class Classified:
    """Classification output: the predicted labels, and binary's positive probabilities."""

    def __init__(self, labels: np.ndarray, probability: np.ndarray | None) -> None:
        self.labels = labels
        self.probability = probability

    def __len__(self) -> int:
        return len(self.labels)


def predict_fn(rows: Any, model: dict) -> Any:
    if len(rows) == 0:
        return np.empty(0, dtype=np.float32)
    transform = model["transform"]
    unseen: Counter = Counter()
    raw = model["booster"].inplace_predict(features(transform, rows, unseen))
    if unseen:
        _warn(unseen, len(rows))
    classes = transform.get("classes")
    if transform.get("problem_type", "regression") == "regression" or not classes:
        return raw
    names = np.array(classes, dtype=object)
    if transform["problem_type"] == "binary_classification":
        probability = np.asarray(raw, dtype=np.float64).ravel()
        return Classified(names[(probability >= 0.5).astype(np.int64)], probability)
    return Classified(names[np.argmax(np.asarray(raw).reshape(len(raw), -1), axis=1)], None)


def _warn(unseen: Counter, records: int) -> None:
    """One line per mini-batch in the job's log: which categories training never saw."""
    shown = ", ".join(f"{c}={v!r} x{n}" for (c, v), n in unseen.most_common(_UNSEEN_SHOWN))
    more = len(unseen) - _UNSEEN_SHOWN
    print(
        f"WARNING unseen categories in {sum(unseen.values())} of {records} records: {shown}"
        + (f" (+{more} more)" if more > 0 else ""),
        file=sys.stderr,
    )


#: what ``output_fn`` writes; ``*/*`` is the container's default accept for CSV models
CSV = "text/csv"


def output_fn(predictions: Any, accept: str = CSV) -> tuple[bytes, str]:
    """The response as SageMaker's XGBoost serving container expects it: ``(body, type)``.

    The container (``sagemaker_inference``'s transformer, which the XGBoost image's
    ``XGBMMSTransformer`` follows) takes a ``(response, content type)`` tuple and sets the
    response's ``Content-Type`` from it; its own default ``output_fn`` returns CSV encoded
    as UTF-8 bytes. So the body is UTF-8 bytes, one prediction a line, and any ``Accept``
    other than CSV is refused rather than answered with CSV under another name.
    """
    if accept not in (CSV, "*/*") and not accept.startswith(CSV + ";"):
        raise ValueError(f"unsupported accept type {accept!r}; this model answers {CSV}")
    return format_predictions(predictions).encode("utf-8"), CSV


def format_predictions(predictions: Any) -> str:
    """One prediction a line: the value with four decimals, exactly as ``"%.4f"`` writes
    it; for classification the label, binary's with its positive probability."""
    if isinstance(predictions, Classified):
        return _classified(predictions)
    values = np.asarray(predictions).ravel()
    if (
        values.dtype == np.float32
        and len(values)
        and np.isfinite(values).all()
        and np.abs(values).max() < 1e9
    ):
        return _fixed4(values)
    return ("%.4f\n" * len(values)) % tuple(values.tolist())


def _classified(predictions: Classified) -> str:
    labels = [_quoted(str(label)) for label in predictions.labels.tolist()]
    if predictions.probability is None:
        return "".join(label + "\n" for label in labels)
    return ("%s,%.4f\n" * len(labels)) % tuple(
        item for pair in zip(labels, predictions.probability.tolist()) for item in pair
    )


def _quoted(label: str) -> str:
    if any(ch in label for ch in ',"\n\r'):
        return '"' + label.replace('"', '""') + '"'
    return label


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
