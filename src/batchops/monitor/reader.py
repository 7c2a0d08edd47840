"""Find and scan the files of a dataset the way Model Monitor's analyzer reads them.

Contract (from AWS's "Container Contract Inputs" page and the SageMaker Python SDK's
``DatasetFormat``): ``dataset_format`` is a JSON string such as
``{"csv": {"header": false, "output_columns_position": "START"}}``,
``{"json": {"line": true}}`` or ``{"parquet": {}}``; ``dataset_source`` is a local path
holding the data. The analyzer reads *every* file under that path; like Spark (which
AWS's analyzer runs on) we skip names starting with ``.`` or ``_`` (``_SUCCESS``,
``.crc`` files), and we skip empty CSV parts, which Spark jobs often write. Headerless
CSV columns are named ``_c0``, ``_c1``, ... as Spark names them.

Files are scanned lazily with polars and consumed in batches, so a file larger than
memory is never loaded whole. Errors are translated into one-line
:class:`~batchops.errors.DataError` messages naming the file (and, for bad UTF-8, the
line and byte).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchops.errors import DataError

if TYPE_CHECKING:
    import polars as pl

FORMATS = ("csv", "json", "parquet")


class EmptyDatasetError(DataError):
    """The dataset exists but holds no data rows (empty files, or a header only).

    A baseline cannot be made of it; a *check* of such a batch is a violation report, not
    a failure (see :func:`batchops.monitor.dataquality.check_dataset`)."""


#: Rows per batch: large enough for polars to parallelise, small enough for 2 GiB at 10 GB.
BATCH_ROWS = 1_000_000
#: Rows polars reads to guess column types; later surprises trigger the text fallback.
INFER_ROWS = 10_000


@dataclass(frozen=True)
class DatasetFormat:
    """Parsed ``dataset_format``: which reader, and whether CSV files have a header."""

    kind: str = "csv"
    header: bool = False

    @classmethod
    def parse(cls, value: str | Mapping[str, Any] | None) -> DatasetFormat:
        """Parse the analyzer's JSON string (or a dict); ``None`` means headerless CSV."""
        if value is None or value == "":
            return cls()
        document: Any = value
        if isinstance(value, str):
            try:
                document = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"dataset_format is not valid JSON ({exc.msg}): {value[:80]}"
                ) from exc
        if not isinstance(document, Mapping) or len(document) != 1:
            raise DataError(
                'dataset_format: expected one of {"csv": {...}}, {"json": {...}}, '
                f'{{"parquet": {{}}}}, got {json.dumps(document)[:80]}'
            )
        kind, options = next(iter(document.items()))
        if kind == "sagemakerCaptureJson":
            raise DataError(
                "dataset_format sagemakerCaptureJson (endpoint data capture) is not supported: "
                "batchops monitors batch data; use csv, json or parquet"
            )
        if kind not in FORMATS:
            raise DataError(
                f"dataset_format: unknown format '{kind}', expected one of {', '.join(FORMATS)}"
            )
        options = options or {}
        if not isinstance(options, Mapping):
            raise DataError(
                f"dataset_format.{kind}: expected an object, got {json.dumps(options)[:60]}"
            )
        if kind == "json" and not _flag(options.get("line", True), "dataset_format.json.line"):
            raise DataError("dataset_format json with line=false is not supported: use JSON Lines")
        position = options.get("output_columns_position", "START")
        if position not in ("START", "END"):
            raise DataError(
                f"dataset_format.{kind}.output_columns_position: "
                f"expected START or END, got {position}"
            )
        header = _flag(options.get("header", False), f"dataset_format.{kind}.header")
        return cls(kind=kind, header=header if kind == "csv" else True)

    def to_json(self) -> str:
        if self.kind == "csv":
            return json.dumps({"csv": {"header": self.header}})
        if self.kind == "json":
            return json.dumps({"json": {"line": True}})
        return json.dumps({"parquet": {}})


def _flag(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise DataError(f"{where}: expected true or false, got {json.dumps(value)}")


def dataset_files(source: Path) -> list[Path]:
    """Every data file under ``source`` (a file or a directory), in a stable order."""
    if not source.exists():
        raise DataError(f"dataset not found: {source}")
    if source.is_file():
        if source.stat().st_size == 0:
            raise EmptyDatasetError(f"{source}: file is empty (expected data rows)")
        return [source]
    files = sorted(
        path
        for path in source.rglob("*")
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(source).parts)
    )
    if not files:
        raise DataError(
            f"{source}: directory holds no data files (hidden and _-prefixed names are skipped)"
        )
    non_empty = [path for path in files if path.stat().st_size > 0]
    if not non_empty:
        raise EmptyDatasetError(
            f"{source}: all {len(files)} data file(s) are empty (expected data rows)"
        )
    return non_empty


def scan(path: Path, fmt: DatasetFormat, *, as_text: bool = False) -> pl.LazyFrame:
    """A lazy frame over one file with Model Monitor column names.

    ``as_text`` reads every CSV column as text so each value's type can be classified
    (the fallback when a column holds values of more than one type).
    """
    import polars as pl

    try:
        if fmt.kind == "csv":
            frame = pl.scan_csv(
                path,
                has_header=fmt.header,
                infer_schema=not as_text,
                infer_schema_length=INFER_ROWS,
                truncate_ragged_lines=True,
            )
        elif fmt.kind == "parquet":
            frame = pl.scan_parquet(path)
        else:
            frame = pl.scan_ndjson(path, infer_schema_length=INFER_ROWS)
        names = frame.collect_schema().names()
    except Exception as exc:  # polars raises several unrelated exception types
        raise translate_error(exc, path) from exc
    if fmt.kind == "csv" and not fmt.header:
        frame = frame.rename({name: f"_c{i}" for i, name in enumerate(names)})
    if as_text and fmt.kind != "csv":
        import polars as pl

        frame = frame.with_columns(pl.all().cast(pl.String))
    return frame


def is_type_surprise(exc: BaseException) -> bool:
    """True when polars met a value that does not fit the type it inferred for a column."""
    text = str(exc)
    return "could not parse" in text or "conversion from" in text or "failed to parse" in text


def translate_error(exc: BaseException, path: Path) -> DataError:
    """A one-line DataError naming the file, for any failure while reading it."""
    if isinstance(exc, DataError):
        return exc
    text = str(exc)
    if "empty CSV" in text or type(exc).__name__ == "NoDataError":
        return EmptyDatasetError(f"{path}: file is empty (expected data rows)")
    if "utf-8" in text.lower() or "utf8" in text.lower():
        return DataError(f"{path}: {describe_bad_utf8(path)}")
    first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    located = locate_csv_problem(path) if path.suffix.lower() in (".csv", ".txt", "") else None
    if located:
        return DataError(f"{path}: {located}")
    return DataError(f"{path}: cannot read data ({first_line})")


def locate_csv_problem(path: Path) -> str | None:
    """Line and field of the first malformed CSV record (error path only).

    polars' parse errors do not say where; Python's strict CSV reader does, so when
    polars fails we re-read the file with it to point at the record to fix.
    """
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, strict=True)
            start = 1
            for _ in reader:
                start = reader.line_num + 1
    except csv.Error as exc:
        return (
            f"malformed CSV record starting at line {start}: {exc}; "
            "expected comma-separated fields with balanced double quotes"
        )
    except (UnicodeDecodeError, OSError):
        return None
    return None


def describe_bad_utf8(path: Path) -> str:
    """Locate the first byte that is not UTF-8 (only runs on the error path)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, line = 0, 1
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                position = offset + exc.start
                line += chunk[: exc.start].count(b"\n")
                return (
                    f"not valid UTF-8 text: byte 0x{chunk[exc.start]:02x} at offset {position} "
                    f"(line {line}); expected UTF-8 encoded data"
                )
            offset += len(chunk)
            line += chunk.count(b"\n")
    return "not valid UTF-8 text; expected UTF-8 encoded data"
