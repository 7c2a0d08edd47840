"""Validation of files in the article's layout against the dataset spec, streaming.

A problem is reported the way compilers do, ``path:line:column: what (expected ...)``,
so an editor can jump to it. Validation streams the file (constant memory) and stops
after ``max_problems``. What the spec says decides:

* the column count of each file (training: the features then the target; inference: the
  features; ground truth: the target), and a header line when ``header: true`` (a header
  in a headerless layout is named as such);
* numeric columns hold finite numbers within ``min``/``max`` (whole ones when
  ``integer``); categorical columns hold non-empty text, one of ``categories`` when the
  spec lists them;
* a feature may be empty (a missing value, imputed with what training saw); the target
  may not;
* a classification target has at least two classes in the training file, exactly two
  for binary classification (a third class is named at the line it first appears).

In an inference batch, a category the spec does not list, and in ground truth a label it
does not list, are *notes* (counted, reported), not problems: the model handles unseen
values and model quality reports unknown labels, so such a batch still runs.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from batchops.data.schema import Layout
from batchops.data.spec import Column, DatasetSpec, current_spec
from batchops.errors import DataError


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
    #: counted, not fatal: {"column 'sex': unseen category 'X'": 12, ...}
    notes: dict[str, int] = field(default_factory=dict)
    #: values of the target column in this file (classification only)
    labels: dict[str, int] = field(default_factory=dict)

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


def check_value(column: Column, value: str, *, target: bool) -> str | None:
    """Why ``value`` does not fit ``column`` (None when it does)."""
    if value.strip() == "":
        if target:
            return f"empty value in column '{column.name}' (the target may not be missing)"
        return None  # a missing feature value: imputed, and counted by data quality
    if column.categorical:
        return None  # listed categories are checked by the caller (problem or note)
    try:
        number = float(value)
    except ValueError:
        return f"non-numeric value {value!r} in column '{column.name}'"
    if not math.isfinite(number):
        return f"value {value!r} in column '{column.name}' must be a finite number"
    if column.min is not None and number < column.min:
        return f"value {value!r} in column '{column.name}' is below its min {column.min:g}"
    if column.max is not None and number > column.max:
        return f"value {value!r} in column '{column.name}' is above its max {column.max:g}"
    if column.integer and not number.is_integer():
        return f"value {value!r} in column '{column.name}' must be a whole number"
    return None


class _FileCheck:
    """The state of one file's validation (problems, notes, the target's classes)."""

    def __init__(self, path: Path, layout: Layout, spec: DatasetSpec, max_problems: int) -> None:
        self.path, self.layout, self.spec, self.max_problems = path, layout, spec, max_problems
        names = layout.columns(spec)
        self.columns = [spec.column(name) for name in names]
        self.problems: list[Problem] = []
        self.notes: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.first_seen: dict[str, int] = {}

    def add(self, line: int, column: int | None, message: str) -> bool:
        """Record a problem; True when the file has reached ``max_problems``."""
        self.problems.append(Problem(self.path, line, column, message))
        return len(self.problems) >= self.max_problems

    def row(self, number: int, values: list[str], first: bool) -> str | None:
        """The first problem of a row, as (column, message), recorded."""
        spec = self.spec
        if len(values) != len(self.columns):
            kind = "wrong column count" if first else "ragged line"
            names = ", ".join(c.name for c in self.columns)
            if len(names) > 120:
                names = names[:117] + "..."
            self.add(
                number,
                None,
                f"{kind}: {len(values)} columns, expected {len(self.columns)} ({names})",
            )
            return "stop-row"
        for index, (column, value) in enumerate(zip(self.columns, values, strict=True), start=1):
            is_target = column is spec.target
            message = check_value(column, value, target=is_target)
            if message is None and column.categorical and value.strip():
                message = self._category(number, column, value.strip(), is_target)
            if message:
                if first and index == 1 and not spec.header and self._looks_like_header(values):
                    message += " (the layout is headerless: remove the header line)"
                self.add(number, index, message)
                return "stop-row"
        return None

    def _category(self, number: int, column: Column, value: str, is_target: bool) -> str | None:
        listed = column.categories
        if is_target:
            self.labels[value] += 1
            self.first_seen.setdefault(value, number)
        if listed is None or value in listed:
            return None
        expected = f"expected one of {', '.join(listed)}"
        if self.layout is Layout.TRAINING:
            what = "label" if is_target else "category"
            return f"unknown {what} {value!r} in column '{column.name}' ({expected})"
        what = "label the spec does not list" if is_target else "category training never saw"
        self.notes[f"column '{column.name}': {what}: {value!r}"] += 1
        return None

    def _looks_like_header(self, values: list[str]) -> bool:
        names = {c.name.lower() for c in self.columns}
        return sum(v.strip().lower() in names for v in values) >= max(1, len(values) // 2)

    def header(self, number: int, values: list[str]) -> None:
        expected = [c.name for c in self.columns]
        if [v.strip() for v in values] != expected:
            self.add(
                number,
                None,
                f"expected the header line {','.join(expected)} (the spec says header: true), "
                f"got {','.join(values)[:120]}",
            )

    def classes(self, rows: int) -> None:
        """A training file's target: at least 2 classes, exactly 2 for binary."""
        spec = self.spec
        if self.layout is not Layout.TRAINING or not spec.classification or self.problems:
            return
        target = spec.target.name
        found = list(self.labels)
        if len(found) == 1:
            self.add(
                1,
                None,
                f"the target '{target}' has one class ({found[0]!r}) in {rows} rows; a "
                f"{spec.problem_type} model needs at least 2",
            )
        elif spec.problem_type == "binary_classification" and len(found) > 2:
            third = found[2]
            column = len(self.columns)
            self.add(
                self.first_seen[third],
                column,
                f"{third!r} is a third class in column '{target}'; binary_classification "
                f"takes 2 ({', '.join(found[:2])}): use multiclass_classification",
            )


def validate_file(
    path: Path,
    layout: Layout | None = None,
    *,
    max_problems: int = 10,
    spec: DatasetSpec | None = None,
) -> Report:
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
    spec = spec or current_spec()
    check = _FileCheck(path, layout, spec, max_problems)
    rows = 0
    header_seen = False
    for number, line in _lines(path):
        if line.strip() == "":
            continue
        values = next(csv.reader(io.StringIO(line)))
        if spec.header and not header_seen:
            header_seen = True
            check.header(number, values)
            if len(check.problems) >= max_problems:
                break
            continue
        rows += 1
        check.row(number, values, first=rows == 1)
        if len(check.problems) >= max_problems:
            return _report(check, rows, truncated=True)
    if rows == 0 and not check.problems:
        check.add(1, None, "empty file (expected at least one data row)")
    check.classes(rows)
    return _report(check, rows, truncated=False)


def _report(check: _FileCheck, rows: int, *, truncated: bool) -> Report:
    return Report(
        check.path,
        check.layout,
        rows,
        tuple(check.problems),
        truncated,
        dict(check.notes),
        dict(check.labels),
    )


def validate_dataset(
    folder: Path,
    *,
    require: tuple[Layout, ...] = (),
    max_problems: int = 10,
    spec: DatasetSpec | None = None,
) -> list[Report]:
    """Validate the article's files found in ``folder``; ``require`` names mandatory ones."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder")
    spec = spec or current_spec()
    reports = []
    for layout in Layout:
        path = folder / layout.filename
        if path.is_file():
            reports.append(validate_file(path, layout, max_problems=max_problems, spec=spec))
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
            truth.path, truth.layout, truth.rows, (problem,), False, truth.notes, truth.labels
        )
    training = next((r for r in reports if r.layout is Layout.TRAINING), None)
    if training and truth and training.ok and truth.ok and spec.classification:
        unknown = sorted(set(truth.labels) - set(training.labels))
        notes = dict(truth.notes)
        for label in unknown:
            notes[f"column '{spec.target.name}': label training never saw: {label!r}"] = (
                truth.labels[label]
            )
        reports[reports.index(truth)] = Report(
            truth.path, truth.layout, truth.rows, truth.problems, False, notes, truth.labels
        )
    return reports


def require_valid(reports: list[Report]) -> None:
    """Raise the first problem as a one-line :class:`DataError`."""
    for report in reports:
        if report.problems:
            more = len(report.problems) - 1
            suffix = f" (and {more} more problem(s): run 'batchops data validate')" if more else ""
            raise DataError(f"{report.problems[0]}{suffix}")
