"""Where a pipeline's data-quality step put its report, whichever engine ran it.

Why: a violation is a *warning* — the step succeeds — so whoever tells a person about it
(the notification Lambda, the demo, the report) must find the step's
``constraint_violations.json``. Model Monitor's ``QualityCheck`` steps say where in their
step metadata (``ViolationReport``, ``CalculatedBaselineStatistics``,
``BaselineUsedForDriftCheckStatistics``); a Processing step's metadata holds only its job's
ARN, so the report is found the way AWS documents it: ``DescribeProcessingJob`` gives the
job's ``ProcessingOutputConfig``, and the data-quality output (``quality_check_output``,
the name both engines use) holds ``statistics.json`` and ``constraint_violations.json``;
the registered baseline the check used is its ``--baseline-statistics`` argument.

Step metadata comes camelCased in EventBridge events and PascalCased from
``ListPipelineExecutionSteps``; both are accepted. Needs only boto3 clients, so the
Lambda zips carry it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

OUTPUT_NAME = "quality_check_output"
VIOLATIONS_FILE = "constraint_violations.json"
STATISTICS_FILE = "statistics.json"


@dataclass(frozen=True)
class QualityReport:
    """A data-quality step's files (S3 URIs) and the violations it found."""

    output_uri: str | None  #: the folder holding the step's files
    statistics_uri: str | None  #: statistics of the data the step read
    baseline_statistics_uri: str | None  #: the baseline it was checked against (None: baseline)
    violations_uri: str | None  #: None when the step wrote no violations report
    violations: list[dict[str, Any]] = field(default_factory=list)


def _get(mapping: Any, name: str) -> Any:
    """``mapping[name]`` matching the key without regard to case (events camelCase keys)."""
    if not isinstance(mapping, dict):
        return None
    for key, value in mapping.items():
        if str(key).lower() == name.lower():
            return value
    return None


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def read_json(s3: Any, uri: str) -> Any:
    bucket, key = split_s3(uri)
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _violations(s3: Any, uri: str | None) -> tuple[str | None, list[dict[str, Any]]]:
    if not uri:
        return None, []
    try:
        document = read_json(s3, uri)
    except Exception as exc:  # no report (a baseline run) reads as no violations
        if "NoSuchKey" in str(exc) or "Not Found" in str(exc) or "404" in str(exc):
            return None, []
        raise
    return uri, list((document or {}).get("violations") or [])


def _argument(arguments: list[str], name: str) -> str | None:
    return arguments[arguments.index(name) + 1] if name in arguments[:-1] else None


def find_report(sagemaker: Any, s3: Any, metadata: Any) -> QualityReport | None:
    """The report of the step whose ``metadata`` is given; None if it is no data-quality step.

    Raises what the clients raise when the report exists but cannot be read (permissions),
    so a caller can tell "no violations" from "could not look".
    """
    check = _get(metadata, "QualityCheck")
    if check:
        uri, found = _violations(s3, _get(check, "ViolationReport"))
        calculated = _get(check, "CalculatedBaselineStatistics")
        return QualityReport(
            output_uri=calculated.rsplit("/", 1)[0] if calculated else None,
            statistics_uri=calculated,
            baseline_statistics_uri=None
            if _get(check, "SkipCheck")
            else _get(check, "BaselineUsedForDriftCheckStatistics"),
            violations_uri=uri,
            violations=found,
        )
    job = _get(metadata, "ProcessingJob")
    arn = _get(job, "Arn")
    if not arn:
        return None
    described = sagemaker.describe_processing_job(ProcessingJobName=str(arn).rsplit("/", 1)[-1])
    outputs = (described.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    output = next((o for o in outputs if o.get("OutputName") == OUTPUT_NAME), None)
    if output is None:
        return None
    folder = str(output["S3Output"]["S3Uri"]).rstrip("/")
    app = described.get("AppSpecification") or {}
    arguments = [str(a) for a in app.get("ContainerArguments") or []]
    baseline = _argument(arguments, "--baseline-statistics")
    uri, found = _violations(s3, f"{folder}/{VIOLATIONS_FILE}") if baseline else (None, [])
    return QualityReport(
        output_uri=folder,
        statistics_uri=f"{folder}/{STATISTICS_FILE}",
        baseline_statistics_uri=baseline,
        violations_uri=uri,
        violations=found,
    )
