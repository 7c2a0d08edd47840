"""The three SageMaker Model Monitor JSON documents: names, defaults, reading and writing.

Why this module exists: a baseline made here must be usable by AWS's managed analyzer
(registered as a drift-check baseline in the model registry) and the other way round, so
every field name below is the one AWS documents. Sources consulted (June 2025 versions):

* "Schema for Statistics (statistics.json file)" —
  docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-statistics.html and
  .../model-monitor-interpreting-statistics.html: ``version``, ``dataset.item_count``,
  per feature ``name``, ``inferred_type`` (Integral | Fractional | String | Unknown),
  ``numerical_statistics`` (``common.num_present/num_missing``, ``mean``, ``sum``,
  ``std_dev``, ``min``, ``max``, ``distribution.kll.buckets[lower_bound, upper_bound,
  count]`` and ``distribution.kll.sketch{parameters{c, k}, data[[...]]}``) or
  ``string_statistics`` (``common``, ``distinct_count``,
  ``distribution.categorical.buckets[value, count]``). "By default, we materialize the
  distribution in 10 buckets."
* "Schema for Constraints (constraints.json file)" —
  .../model-monitor-byoc-constraints.html: per feature ``name``, ``inferred_type``,
  ``completeness``, ``num_constraints.is_non_negative``, ``string_constraints.domains``,
  ``monitoringConfigOverrides``; ``monitoring_config`` with ``evaluate_constraints``,
  ``emit_metrics``, ``datatype_check_threshold``, ``domain_content_threshold`` and
  ``distribution_constraints`` (``perform_comparison``, ``comparison_threshold``,
  ``comparison_method`` Simple | Robust, ``categorical_comparison_threshold``,
  ``categorical_drift_method`` LInfinity | ChiSquared). The defaults used when
  suggesting are the SageMaker Python SDK's (``DataQualityDistributionConstraints``:
  Enabled, 0.1, Robust, 0.1, LInfinity) and 1.0 for both type/domain thresholds, as in
  ``../shared/reference/model-monitor-formats.md``. (The current page's example shows
  0.1 for the two thresholds; older versions and the reference show 1.0. A user can
  edit the file; we honour whatever it says.)
* "Schema for Violations (constraint_violations.json file)" —
  .../model-monitor-interpreting-violations.html: ``violations[feature_name,
  constraint_check_type, description]`` with the six documented check types. We add
  ``non_negative_check`` (asked for by the issue) in the same shape.
* File names: the "Container Contract Outputs" page spells the violations file
  ``constraints_violations.json``, but the SageMaker Python SDK reads
  ``constraint_violations.json`` (``CONSTRAINT_VIOLATIONS_JSON_DEFAULT_FILE_NAME`` in
  ``sagemaker/model_monitor/model_monitoring.py``) and that is what the managed container
  writes, so we write that name and read either.

Writes are atomic (temporary file in the same directory, then ``os.replace``) so an
interrupted run never leaves half a document that a later step would trust.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from batchops.errors import DataError

STATISTICS_FILE = "statistics.json"
CONSTRAINTS_FILE = "constraints.json"
VIOLATIONS_FILE = "constraint_violations.json"
#: The spelling used on AWS's "Container Contract Outputs" page; accepted when reading.
VIOLATIONS_FILE_ALT = "constraints_violations.json"

INTEGRAL = "Integral"
FRACTIONAL = "Fractional"
STRING = "String"
UNKNOWN = "Unknown"
INFERRED_TYPES = (INTEGRAL, FRACTIONAL, STRING, UNKNOWN)
NUMERIC_TYPES = (INTEGRAL, FRACTIONAL)

DATA_TYPE_CHECK = "data_type_check"
COMPLETENESS_CHECK = "completeness_check"
BASELINE_DRIFT_CHECK = "baseline_drift_check"
MISSING_COLUMN_CHECK = "missing_column_check"
EXTRA_COLUMN_CHECK = "extra_column_check"
CATEGORICAL_VALUES_CHECK = "categorical_values_check"
NON_NEGATIVE_CHECK = "non_negative_check"

#: Number of equal-width buckets materialised from the sketch ("10 buckets" in AWS's docs).
KLL_BUCKETS = 10


#: The format version of the three documents this engine writes and reads (AWS writes 0.0).
FORMAT_VERSION = 0.0


def check_format_version(document: Mapping[str, Any], where: str) -> None:
    """Refuse a document of a newer format (written by a newer engine) naming both versions.

    ``version`` is the documents' format version (``0.0`` for AWS's analyzer and for this
    engine); a file without it is read as ``0.0``, as AWS's examples omit it in places.
    """
    from batchops import __version__

    found = as_number(document.get("version", FORMAT_VERSION), f"{where}.version")
    if found > FORMAT_VERSION:
        raise DataError(
            f"{where}: written by a newer engine (format version {found:g}); this engine, "
            f"batchops {__version__}, reads format version {FORMAT_VERSION:g} — regenerate "
            "the baseline with this version or upgrade batchops"
        )


def default_monitoring_config(categorical_drift_method: str = "LInfinity") -> dict[str, Any]:
    """The ``monitoring_config`` block written into suggested constraints."""
    return {
        "evaluate_constraints": "Enabled",
        "emit_metrics": "Enabled",
        "datatype_check_threshold": 1.0,
        "domain_content_threshold": 1.0,
        "distribution_constraints": {
            "perform_comparison": "Enabled",
            "comparison_threshold": 0.1,
            "comparison_method": "Robust",
            "categorical_comparison_threshold": 0.1,
            "categorical_drift_method": categorical_drift_method,
        },
    }


def write_json(path: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` to ``path`` atomically; non-finite floats are refused, not emitted.

    Model Monitor files are read by Java (Jackson) on AWS, which rejects ``NaN`` and
    ``Infinity`` tokens, so producing them would make a baseline unusable there.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_json(path: Path, what: str) -> dict[str, Any]:
    """Read one Model Monitor document with a one-line error naming the file."""
    if not path.is_file():
        raise DataError(f"{what} file not found: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: {what} is not UTF-8 text ({exc.reason})") from exc
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: {what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from exc
    if not isinstance(document, dict):
        raise DataError(f"{path}: {what} must be a JSON object, got {type(document).__name__}")
    return document


def require(
    document: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str
) -> Any:
    """Fetch ``document[key]`` or raise a one-line error saying what was expected."""
    if key not in document:
        raise DataError(f"{where}: missing key '{key}'")
    value = document[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
        names = " or ".join(t.__name__ for t in _as_tuple(kind))
        raise DataError(f"{where}.{key}: expected {names}, got {json.dumps(value)[:60]}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def as_number(value: Any, where: str) -> float:
    """Numbers in AWS-written files may be ints, floats or the strings "NaN"/"Infinity"."""
    if isinstance(value, bool):
        raise DataError(f"{where}: expected a number, got {value}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise DataError(f"{where}: expected a number, got {json.dumps(value)[:60]}")


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def violations_document(violations: list[dict[str, str]]) -> dict[str, Any]:
    return {"violations": violations}


def find_violations_file(directory: Path) -> Path | None:
    for name in (VIOLATIONS_FILE, VIOLATIONS_FILE_ALT):
        if (directory / name).is_file():
            return directory / name
    return None
