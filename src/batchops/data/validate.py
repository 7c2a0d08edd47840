"""Validation of files in the article's headerless layout, streaming, with file:line:column.

A problem is reported the way compilers do, ``path:line:column: what (expected ...)``,
so an editor can jump to it. Validation streams the file (constant memory) and stops
after ``max_problems``. A header line is a problem: the article's layout is headerless. So
are a UTF-8 byte-order mark (the pipeline's CSV reader would keep it in the first value), a
field too long to be a value, and a training file with fewer rows than the training
pipeline needs (:data:`~batchops.data.schema.MIN_TRAINING_ROWS`).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from batchops.data.schema import COLUMN_SPECS, MIN_TRAINING_ROWS, SEXES, Layout
from batchops.errors import DataError

BOM = "\ufeff"


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    column: int | None
    message: str

    def __str__(self) -> str:
        col = f":{self.column}" if self.column is not None else ""
        return f"{self.path}:{self.line}{col}: {self.message}"


@dataclass(frozen=True)
class Report:
    path: Path
    layout: Layout
    rows: int
    problems: tuple[Problem, ...]
    truncated: bool

    @property
    def ok(self) -> bool:
        return not self.problems


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        number = 0
        pending = ""
        offset = 0
        while chunk := handle.read(1 << 20):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise DataError(
                    f"{path}: not UTF-8 text (invalid byte at offset {offset + exc.start})"
                ) from None
            offset += len(chunk)
            pending += text
            *complete, pending = pending.split("\n")
            for line in complete:
                number += 1
                yield number, line.rstrip("\r")
        if pending:
            yield number + 1, pending.rstrip("\r")


def _check_value(column: str, value: str) -> str | None:
    spec = COLUMN_SPECS[column]
    if value.strip() == "":
        return f"empty value in column '{column}'"
    if spec.kind == "category":
        if value not in SEXES:
            return f"unknown sex {value!r} in column 'sex' (expected one of {', '.join(SEXES)})"
        return None
    try:
        number = float(value)
    except ValueError:
        return f"non-numeric value {value!r} in column '{column}'"
    if not math.isfinite(number) or number < 0:
        return f"value {value!r} in column '{column}' must be a non-negative number"
    if spec.kind == "int" and not number.is_integer():
        return f"value {value!r} in column '{column}' must be a whole number of rings"
    return None


def validate_file(path: Path, layout: Layout | None = None, *, max_problems: int = 10) -> Report:
    """Check one file; raises :class:`DataError` only when it cannot be read at all."""
    path = Path(path)
    layout = layout or Layout.from_filename(path.name)
    if layout is None:
        raise DataError(
            f"{path}: cannot tell the layout from the name; expected training-data.csv, "
            "inference-data.csv or ground-truth.csv (or pass --layout)"
        )
    if not path.is_file():
        raise DataError(f"{path}: file not found")
    columns = layout.columns
    problems: list[Problem] = []
    rows = 0
    for number, raw in _lines(path):
        line = raw
        if number == 1 and line.startswith(BOM):
            problems.append(
                Problem(
                    path,
                    1,
                    1,
                    "the file starts with a UTF-8 byte-order mark (BOM); save it as UTF-8 "
                    "without BOM (the pipeline would read it as part of the first value)",
                )
            )
            line = line[len(BOM) :]
        if line.strip() == "":
            continue
        rows += 1
        try:
            values = next(csv.reader(io.StringIO(line)))
        except csv.Error as exc:
            problems.append(Problem(path, number, None, _csv_problem(exc, line)))
            if len(problems) >= max_problems:
                return Report(path, layout, rows, tuple(problems), truncated=True)
            continue
        if len(values) != len(columns):
            kind = "ragged line" if rows > 1 else "wrong column count"
            problems.append(
                Problem(
                    path,
                    number,
                    None,
                    f"{kind}: {len(values)} columns, expected "
                    f"{len(columns)} ({', '.join(columns)})",
                )
            )
        else:
            for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
                message = _check_value(column, value)
                if message:
                    if rows == 1 and layout is not Layout.GROUND_TRUTH and index == 1:
                        message += " (the layout is headerless: remove the header line)"
                    problems.append(Problem(path, number, index, message))
                    break
        if len(problems) >= max_problems:
            return Report(path, layout, rows, tuple(problems), truncated=True)
    if rows == 0:
        problems.append(Problem(path, 1, None, "empty file (expected at least one data row)"))
    elif layout is Layout.TRAINING and rows < MIN_TRAINING_ROWS:
        problems.append(
            Problem(
                path,
                rows,
                None,
                f"only {rows} data row(s); the training pipeline needs at least "
                f"{MIN_TRAINING_ROWS}",
            )
        )
    return Report(path, layout, rows, tuple(problems), truncated=False)


def _csv_problem(exc: csv.Error, line: str) -> str:
    if "field larger than field limit" in str(exc):
        return (
            f"a field is longer than {csv.field_size_limit():,} characters (the line has "
            f"{len(line):,}); expected short CSV values — is this the right file?"
        )
    return f"not a CSV line: {exc}"


def validate_dataset(
    folder: Path, *, require: tuple[Layout, ...] = (), max_problems: int = 10
) -> list[Report]:
    """Validate the article's files found in ``folder``; ``require`` names mandatory ones."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    reports = []
    for layout in Layout:
        path = folder / layout.filename
        if path.is_file():
            reports.append(validate_file(path, layout, max_problems=max_problems))
        elif layout in require:
            raise DataError(f"{path}: file not found (the data folder must hold {layout.filename})")
    if not reports:
        raise DataError(
            f"{folder}: no training-data.csv, inference-data.csv or ground-truth.csv found"
        )
    inference = next((r for r in reports if r.layout is Layout.INFERENCE), None)
    truth = next((r for r in reports if r.layout is Layout.GROUND_TRUTH), None)
    if inference and truth and inference.ok and truth.ok and inference.rows != truth.rows:
        problem = Problem(
            truth.path,
            truth.rows,
            None,
            f"ground truth has {truth.rows} rows but {inference.path.name} has {inference.rows}",
        )
        reports[reports.index(truth)] = Report(
            truth.path, truth.layout, truth.rows, (problem,), False
        )
    return reports


def require_valid(reports: list[Report]) -> None:
    """Raise the first problem as a one-line :class:`DataError`."""
    for report in reports:
        if report.problems:
            more = len(report.problems) - 1
            suffix = f" (and {more} more problem(s): run 'batchops data validate')" if more else ""
            raise DataError(f"{report.problems[0]}{suffix}")
