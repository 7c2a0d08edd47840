"""Data-quality baseline and check: the functions the CLI and the analyzer call.

``suggest_baseline`` profiles a dataset and writes ``statistics.json`` +
``constraints.json``; ``check_dataset`` profiles a batch, writes its own
``statistics.json`` and ``constraint_violations.json`` (always, with an empty list when
all is well, as AWS's analyzer does), and returns the violations. Both read the data in
one streaming pass (see :mod:`batchops.monitor.reader`).

Errors are :class:`~batchops.errors.DataError` with one line naming the file. Nothing is
written until the whole dataset has been read and every document built, and each file
is written atomically, so a failure never leaves a half-written baseline behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from batchops.errors import DataError
from batchops.monitor.checks import Violation, check_profile, empty_batch_violations
from batchops.monitor.constraints import Constraints, parse_constraints, suggest_constraints
from batchops.monitor.formats import (
    CONSTRAINTS_FILE,
    STATISTICS_FILE,
    UNKNOWN,
    VIOLATIONS_FILE,
    read_json,
    violations_document,
    write_json,
)
from batchops.monitor.profile import (
    DatasetProfile,
    empty_profile,
    merge_profiles,
    update_with_batch,
)
from batchops.monitor.reader import (
    BATCH_ROWS,
    DatasetFormat,
    EmptyDatasetError,
    dataset_files,
    is_type_surprise,
    scan,
    translate_error,
)
from batchops.monitor.statistics import BaselineStatistics, parse_statistics, statistics_document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QualityResult:
    """What a baseline or a check produced."""

    files: dict[str, Path]
    item_count: int
    features: tuple[str, ...]
    violations: tuple[Violation, ...] = ()
    notes: tuple[str, ...] = field(default=())


def profile_dataset(
    source: Path, fmt: DatasetFormat | None = None, *, batch_rows: int = BATCH_ROWS
) -> DatasetProfile:
    """One pass over every file of ``source``; the profiles of the files are merged."""
    fmt = fmt or DatasetFormat()
    files = dataset_files(source)
    first = files[0]
    total = _profile_file(first, fmt, batch_rows)
    for path in files[1:]:
        profile = _profile_file(path, fmt, batch_rows)
        if profile.names != total.names:
            raise DataError(
                f"{path}: columns {_names(profile.names)} differ from "
                f"{first.name}'s {_names(total.names)}; "
                "every file of a dataset must have the same columns"
            )
        total = merge_profiles(total, profile)
    if total.item_count == 0:
        where = source if len(files) > 1 else files[0]
        raise EmptyDatasetError(f"{where}: no data rows (header only?); expected at least one row")
    return total


def _names(names: list[str]) -> str:
    shown = ", ".join(names[:12])
    return f"[{shown}{', ...' if len(names) > 12 else ''}] ({len(names)})"


def _profile_file(path: Path, fmt: DatasetFormat, batch_rows: int) -> DatasetProfile:
    """Typed fast pass; if a value contradicts the inferred type, re-read as text."""
    for as_text in (False, True):
        try:
            frame = scan(path, fmt, as_text=as_text)
            profile = empty_profile(frame.collect_schema().names())
            for batch in frame.collect_batches(chunk_size=batch_rows):
                update_with_batch(profile, batch, as_text=as_text)
            return profile
        except DataError:
            raise
        except Exception as exc:  # polars raises ComputeError, SchemaError, ...
            if not as_text and fmt.kind == "csv" and is_type_surprise(exc):
                log.info(
                    "%s: mixed value types, classifying every value (%s)",
                    path,
                    str(exc).splitlines()[0],
                )
                continue
            raise translate_error(exc, path) from exc
    raise AssertionError("unreachable")


def suggest_baseline(
    source: Path,
    output: Path,
    fmt: DatasetFormat | None = None,
    *,
    categorical_drift_method: str = "LInfinity",
) -> QualityResult:
    """Profile ``source`` and write statistics.json and suggested constraints.json."""
    profile = profile_dataset(source, fmt)
    statistics = statistics_document(profile)
    constraints = suggest_constraints(profile, categorical_drift_method)
    files = {
        "statistics": write_json(output / STATISTICS_FILE, statistics),
        "constraints": write_json(output / CONSTRAINTS_FILE, constraints),
    }
    return QualityResult(
        files, profile.item_count, tuple(profile.names), notes=_unknown_notes(profile)
    )


def _unknown_notes(profile: DatasetProfile) -> tuple[str, ...]:
    return tuple(
        f"column {c.name} has no value in {c.rows} rows: its type is Unknown and it is not checked"
        for c in profile.columns.values()
        if c.inferred_type == UNKNOWN
    )


def load_baseline(
    constraints_path: Path, statistics_path: Path | None
) -> tuple[Constraints, BaselineStatistics | None]:
    constraints = parse_constraints(
        read_json(constraints_path, "baseline constraints"), str(constraints_path)
    )
    statistics = None
    if statistics_path is not None:
        statistics = parse_statistics(
            read_json(statistics_path, "baseline statistics"), str(statistics_path)
        )
    return constraints, statistics


def baseline_files(directory: Path) -> tuple[Path, Path]:
    """(constraints, statistics) inside a baseline directory; both must exist."""
    if not directory.is_dir():
        raise DataError(f"baseline directory not found: {directory}")
    missing = [
        name for name in (CONSTRAINTS_FILE, STATISTICS_FILE) if not (directory / name).is_file()
    ]
    if missing:
        raise DataError(
            f"{directory}: baseline is missing {' and '.join(missing)} "
            "(expected statistics.json and constraints.json from 'batchops monitor baseline')"
        )
    return directory / CONSTRAINTS_FILE, directory / STATISTICS_FILE


def check_dataset(
    source: Path,
    output: Path,
    constraints_path: Path,
    statistics_path: Path | None,
    fmt: DatasetFormat | None = None,
    *,
    write_suggested_constraints: bool = False,
) -> QualityResult:
    """Check ``source`` against a baseline; writes statistics.json + constraint_violations.json.

    ``write_suggested_constraints`` also writes the batch's own suggested constraints.json
    (what a pipeline QualityCheck step exposes as ``CalculatedBaselineConstraints``).
    An empty batch (no file with a data row) is reported, not refused: one
    ``completeness_check`` violation per baseline feature saying the batch has no rows.
    """
    constraints, statistics = load_baseline(constraints_path, statistics_path)
    empty_reason = None
    try:
        profile = profile_dataset(source, fmt)
    except EmptyDatasetError as exc:  # a batch of nothing is a finding, not a crash
        profile, empty_reason = empty_profile([]), str(exc)
    if empty_reason is None:
        violations = check_profile(profile, constraints, statistics)
    else:
        violations = empty_batch_violations(constraints, empty_reason)
    documents = {
        "statistics": (STATISTICS_FILE, statistics_document(profile)),
        "constraint_violations": (
            VIOLATIONS_FILE,
            violations_document([v.to_json() for v in violations]),
        ),
    }
    if write_suggested_constraints:
        method = constraints.config.categorical_drift_method
        documents["constraints"] = (CONSTRAINTS_FILE, suggest_constraints(profile, method))
    files = {key: write_json(output / name, doc) for key, (name, doc) in documents.items()}
    notes = _unknown_notes(profile)
    if empty_reason is not None:
        notes += (f"empty batch: {empty_reason}",)
    if statistics is None:
        notes += ("no baseline statistics given: baseline_drift_check was not evaluated",)
    return QualityResult(files, profile.item_count, tuple(profile.names), tuple(violations), notes)
