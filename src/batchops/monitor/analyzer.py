"""A stand-in for SageMaker's Model Monitor analyzer container.

AWS runs the ``sagemaker-model-monitor-analyzer`` image for baselining and monitoring jobs.

The local cloud's pipeline executor runs QualityCheck steps, and processing steps whose
image is the analyzer, by calling :func:`run` with the step's environment (after mapping
``/opt/ml/processing/...`` paths to its workspace); a processing container can run the
same thing with ``python -m batchops.monitor.analyzer``, which reads ``os.environ``.

Environment contract — the names AWS's analyzer uses. Sources: AWS's "Container Contract
Inputs" page (docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html:
``dataset_format``, ``dataset_source``, ``output_path``, ``publish_cloudwatch_metrics``,
``baseline_constraints``, ``baseline_statistics``, ``start_time``/``end_time``,
``sagemaker_endpoint_name``...) and the constants of the SageMaker Python SDK's
``sagemaker/model_monitor/model_monitoring.py`` (``analysis_type``, ``problem_type``,
``inference_attribute``, ``ground_truth_attribute``, ``probability_attribute``,
``probability_threshold_attribute``, ``categorical_drift_method``,
``record_preprocessor_script``, ``post_analytics_processor_script``):

==================================  =========================================================
``dataset_source`` (required)       directory (every file under it) or single file
``output_path`` (required)          directory for the reports
``dataset_format``                  e.g. ``{"csv": {"header": false}}``; default headerless CSV
``baseline_constraints``            path of constraints.json → *check* mode
``baseline_statistics``             path of statistics.json (drift check needs it)
``analysis_type``                   absent/``DATA_QUALITY`` or ``MODEL_QUALITY``
``problem_type``                    ``Regression``, ``BinaryClassification`` (0/1 labels;
                                    ``probability_attribute`` for AUC and the curves),
                                    ``MulticlassClassification`` (class indices)
``inference_attribute``             model quality: prediction column (name, or index if headerless)
``ground_truth_attribute``          model quality: label column (name, or index if headerless)
``categorical_drift_method``        ``LInfinity`` / ``ChiSquared`` for suggested constraints
``publish_cloudwatch_metrics``      accepted (``Enabled``/``Disabled``); metrics are not emitted
``fail_on_violation``               batchops: ``true`` makes the ``python -m`` entry exit 8
==================================  =========================================================

Outputs (AWS's "Container Contract Outputs"): without a baseline, ``statistics.json`` and
the suggested ``constraints.json``; with one, ``statistics.json`` and
``constraint_violations.json`` (always written, empty list when clean). Like the managed
analyzer, finding violations is not an error: the run succeeds and says so in
:class:`AnalyzerResult`, and the *pipeline step* decides (``FailOnViolation``).

Unsupported inputs fail loudly rather than being ignored: endpoint capture data
(``sagemakerCaptureJson``), pre/post-processing scripts, classification problem types.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from batchops.errors import BatchopsError, ConfigError
from batchops.monitor.dataquality import check_dataset, suggest_baseline
from batchops.monitor.reader import DatasetFormat

log = logging.getLogger(__name__)

#: Exit status for "ran fine, found violations" when the caller asked to fail on them.
VIOLATIONS_EXIT_CODE = 8
UNSUPPORTED = ("record_preprocessor_script", "post_analytics_processor_script")


@dataclass(frozen=True)
class AnalyzerViolation:
    feature_name: str  # the metric name for model quality
    constraint_check_type: str
    description: str


@dataclass(frozen=True)
class AnalyzerResult:
    """What the executor needs to set the step's properties and decide its status.

    ``files`` maps ``statistics`` / ``constraints`` / ``constraint_violations`` to the
    paths written (only the ones written). ``status`` mirrors a monitoring execution:
    ``Completed`` or ``CompletedWithViolations``.
    """

    mode: str  # "baseline" | "check" | "model_quality_baseline" | "model_quality_check"
    analysis_type: str  # "DATA_QUALITY" | "MODEL_QUALITY"
    output_path: Path
    files: Mapping[str, Path]
    item_count: int
    violations: tuple[AnalyzerViolation, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "CompletedWithViolations" if self.violations else "Completed"

    def failure_message(self) -> str:
        """One line for a step that fails on violations (FailOnViolation=True)."""
        checks = "; ".join(
            f"{v.constraint_check_type} on {v.feature_name}" for v in self.violations[:10]
        )
        more = f" (+{len(self.violations) - 10} more)" if len(self.violations) > 10 else ""
        report = self.files.get("constraint_violations", self.output_path)
        return (
            f"ClientError: violations found: {len(self.violations)} — {checks}{more}. See {report}"
        )


def run(environ: Mapping[str, str]) -> int:
    """The executor's entry: run one analysis; 0 when it ran, violations or not.

    Like AWS's analyzer, finding violations is a successful run: the caller decides from
    ``constraint_violations.json`` (a QualityCheck step's ``FailOnViolation``). Bad
    configuration or data raises a :class:`~batchops.errors.BatchopsError` and writes
    nothing.
    """
    analyze(environ)
    return 0


def analyze(
    environ: Mapping[str, str], *, write_suggested_constraints: bool = False
) -> AnalyzerResult:
    """Run one analysis as the analyzer container would, given its environment.

    ``write_suggested_constraints``: in check mode also write the batch's suggested
    constraints.json (a QualityCheck step's ``CalculatedBaselineConstraints``).
    Raises :class:`~batchops.errors.BatchopsError` subclasses with one-line messages for
    bad configuration or data; nothing is written in that case.
    """
    for name in UNSUPPORTED:
        if environ.get(name):
            raise ConfigError(
                f"{name} is set but not supported by the batchops analyzer; remove it"
            )
    source = _path(environ, "dataset_source")
    output = _path(environ, "output_path")
    fmt = DatasetFormat.parse(environ.get("dataset_format"))
    publish = environ.get("publish_cloudwatch_metrics", "Disabled")
    if publish not in ("Enabled", "Disabled"):
        raise ConfigError(
            f"publish_cloudwatch_metrics: expected Enabled or Disabled, got {publish}"
        )
    analysis = (environ.get("analysis_type") or "DATA_QUALITY").upper()
    if analysis == "MODEL_QUALITY":
        return _model_quality(environ, source, output, fmt)
    if analysis != "DATA_QUALITY":
        raise ConfigError(f"analysis_type: expected DATA_QUALITY or MODEL_QUALITY, got {analysis}")
    constraints = _optional_path(environ, "baseline_constraints")
    statistics = _optional_path(environ, "baseline_statistics")
    if constraints is None:
        if statistics is not None:
            raise ConfigError(
                "baseline_statistics is set without baseline_constraints; a check needs both"
            )
        method = environ.get("categorical_drift_method") or "LInfinity"
        result = suggest_baseline(source, output, fmt, categorical_drift_method=method)
        return AnalyzerResult(
            "baseline", analysis, output, result.files, result.item_count, notes=result.notes
        )
    result = check_dataset(
        source,
        output,
        constraints,
        statistics,
        fmt,
        write_suggested_constraints=write_suggested_constraints,
    )
    violations = tuple(
        AnalyzerViolation(v.feature_name, v.constraint_check_type, v.description)
        for v in result.violations
    )
    return AnalyzerResult(
        "check", analysis, output, result.files, result.item_count, violations, result.notes
    )


def _path(environ: Mapping[str, str], name: str) -> Path:
    value = environ.get(name)
    if not value:
        raise ConfigError(f"{name} is not set (the analyzer needs dataset_source and output_path)")
    return Path(value)


def _optional_path(environ: Mapping[str, str], name: str) -> Path | None:
    value = environ.get(name)
    return Path(value) if value else None


def _model_quality(
    environ: Mapping[str, str], source: Path, output: Path, fmt: DatasetFormat
) -> AnalyzerResult:
    from batchops.monitor import model_quality as mq
    from batchops.monitor.formats import CONSTRAINTS_FILE, STATISTICS_FILE, read_json, write_json

    problem = environ.get("problem_type", "")
    if problem not in mq.PROBLEM_TYPES:
        supported = ", ".join(mq.PROBLEM_TYPES)
        verb = "is" if len(mq.PROBLEM_TYPES) == 1 else "are"
        raise ConfigError(
            f"problem_type: only {supported} {verb} supported by the batchops analyzer, "
            f"got {problem or 'nothing'}"
        )
    kind = mq.PROBLEM_TYPES[problem]
    if fmt.kind != "csv":
        raise ConfigError(f"model quality reads CSV data; dataset_format is {fmt.kind}")
    prediction = environ.get("inference_attribute")
    truth = environ.get("ground_truth_attribute")
    if not prediction or not truth:
        raise ConfigError("model quality needs inference_attribute and ground_truth_attribute")
    probability = environ.get("probability_attribute")
    if kind is mq.BINARY_CLASSIFICATION and probability:  # the score the threshold applies to
        prediction = probability
    predicted = mq.read_numeric_column(
        source, prediction, header=fmt.header, what="inference_attribute"
    )
    labels = mq.read_numeric_column(source, truth, header=fmt.header, what="ground_truth_attribute")
    constraints_path = _optional_path(environ, "baseline_constraints")
    if constraints_path is None:
        metrics = mq.compute_metrics(kind, predicted, labels)
        files = {
            "statistics": write_json(output / STATISTICS_FILE, mq.statistics_document(metrics)),
            "constraints": write_json(output / CONSTRAINTS_FILE, mq.suggested_constraints(metrics)),
        }
        return AnalyzerResult(
            "model_quality_baseline", "MODEL_QUALITY", output, files, metrics.count
        )
    constraints = read_json(constraints_path, "baseline constraints")
    result = mq.evaluate(
        predicted, labels, output, constraints, problem=kind, write_constraints=False
    )
    files = result.files
    violations = tuple(
        AnalyzerViolation(v["metric_name"], v["constraint_check_type"], v["description"])
        for v in result.violations
    )
    return AnalyzerResult(
        "model_quality_check", "MODEL_QUALITY", output, files, result.metrics.count, violations
    )


def main(environ: Mapping[str, str] | None = None) -> int:
    """Container entry point: 0 on success (violations included), 1-7 on errors, 8 on
    violations when ``fail_on_violation=true``."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    environ = os.environ if environ is None else environ
    try:
        result = analyze(environ)
    except BatchopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for note in result.notes:
        log.warning(note)
    written = ", ".join(f"{path}" for path in result.files.values())
    print(f"{result.mode}: {result.item_count} rows, status {result.status}; wrote {written}")
    for violation in result.violations:
        print(
            f"violation: {violation.constraint_check_type} {violation.feature_name}: "
            f"{violation.description}"
        )
    if result.violations and environ.get("fail_on_violation", "false").lower() == "true":
        print(result.failure_message(), file=sys.stderr)
        return VIOLATIONS_EXIT_CODE
    return 0


if __name__ == "__main__":
    sys.exit(main())
