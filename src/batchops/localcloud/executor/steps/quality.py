"""QualityCheck steps (DATA_QUALITY) with the builtin Model-Monitor-compatible engine.

The step's ``Arguments`` are a processing request for AWS's analyzer image; the
step-level fields decide what happens, as documented for ``QualityCheckStep``:

* ``SkipCheck``: only compute the baseline of the input (statistics + suggested
  constraints);
* otherwise check the input against ``SuppliedBaseline*`` (or the drift-check baseline of
  the latest approved version in ``ModelPackageGroupName``) and write
  ``constraint_violations.json``; with ``FailOnViolation`` violations fail the step;
* ``RegisterNewBaseline`` decides whether ``BaselineUsedForDriftCheck*`` are the newly
  calculated files or the ones checked against.

The analyzer container is emulated by :func:`batchops.monitor.analyzer.run` with the
container's environment contract (``dataset_source``, ``output_path``, ``dataset_format``,
``baseline_statistics``, ``baseline_constraints``).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from batchops.errors import BatchopsError, PipelineError
from batchops.localcloud.executor.context import StepContext, StepFailed, StepOutcome
from batchops.localcloud.executor.steps._job import (
    job_properties,
    prepare_workspace,
    publish_outputs,
    stage_inputs,
)
from batchops.localcloud.executor.storage import download, split_uri

_OUTPUT_NAME = "quality_check_output"


def _analyzer(environ: dict[str, str]) -> None:
    try:
        analyzer = importlib.import_module("batchops.monitor.analyzer")
    except ImportError as exc:  # pragma: no cover - the engine ships with batchops
        raise StepFailed(f"ClientError: the data-quality engine is not available ({exc})") from None
    try:
        analyzer.run(environ)
    except BatchopsError as exc:
        raise StepFailed(f"AlgorithmError: {exc}") from None


def _analyzer_environment(ctx: StepContext, args: dict[str, Any]) -> dict[str, str]:
    env = {str(k): ctx.remap(str(v)) for k, v in (args.get("Environment") or {}).items()}
    env.setdefault("publish_cloudwatch_metrics", "Disabled")
    if "dataset_source" not in env:
        inputs = args.get("ProcessingInputs") or []
        if not inputs:
            raise StepFailed("ClientError: the quality check has no input dataset")
        env["dataset_source"] = ctx.remap(inputs[0]["S3Input"]["LocalPath"])
    if "output_path" not in env:
        env["output_path"] = str(ctx.container_path("/opt/ml/processing/output"))
    return env


def run_analyzer_container(ctx: StepContext, args: dict[str, Any]) -> None:
    """A plain processing step that uses the analyzer image (no step-level fields)."""
    env = _analyzer_environment(ctx, args)
    for key in ("baseline_statistics", "baseline_constraints"):
        if key in env and not Path(env[key]).is_file():
            raise StepFailed(f"ClientError: {key} {env[key]!r} does not exist in the container")
    Path(env["output_path"]).mkdir(parents=True, exist_ok=True)
    _analyzer(env)


def _output_uri(args: dict[str, Any]) -> str:
    outputs = (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    if not outputs:
        raise StepFailed("ClientError: the quality check has no output")
    chosen = next((o for o in outputs if o.get("OutputName") == _OUTPUT_NAME), outputs[0])
    return str(chosen["S3Output"]["S3Uri"]).rstrip("/")


def _latest_registered_baseline(ctx: StepContext, group: str | None) -> tuple[str, str]:
    if not group:
        raise StepFailed(
            "ClientError: SkipCheck is false but no SuppliedBaseline* and no ModelPackageGroupName"
        )
    sm = ctx.sagemaker(ctx.options.get("pipeline_role_arn"))
    packages = sm.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus="Approved",
        SortBy="CreationTime",
        SortOrder="Descending",
    ).get("ModelPackageSummaryList", [])
    for summary in packages:
        baselines = (
            sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"]).get(
                "DriftCheckBaselines"
            )
            or {}
        )
        quality = baselines.get("ModelDataQuality") or {}
        if quality.get("Statistics") and quality.get("Constraints"):
            return quality["Statistics"]["S3Uri"], quality["Constraints"]["S3Uri"]
    raise StepFailed(f"ClientError: no approved version of {group} carries a data-quality baseline")


def _fetch(ctx: StepContext, role: str | None, uri: str, folder: Path) -> Path:
    try:
        files = download(ctx.s3(role), uri, folder, data_type="S3Prefix")
    except PipelineError as exc:
        raise StepFailed(f"ClientError: baseline {uri}: {exc}") from None
    wanted = Path(split_uri(uri)[1]).name
    return next((f for f in files if f.name == wanted), files[0])


def _violations(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return list(json.loads(path.read_text()).get("violations") or [])


def run_quality_check(ctx: StepContext, args: dict[str, Any], step: dict[str, Any]) -> StepOutcome:
    check_type = step.get("CheckType", "DATA_QUALITY")
    if check_type != "DATA_QUALITY":
        raise StepFailed(
            f"ClientError: QualityCheck type {check_type!r} is not supported locally "
            "(DATA_QUALITY is)"
        )
    skip = bool(step.get("SkipCheck"))
    register_new = bool(step.get("RegisterNewBaseline"))
    role = args.get("RoleArn")
    prepare_workspace(ctx, args)
    stage_inputs(ctx, args)
    env = _analyzer_environment(ctx, args)
    output_dir = Path(env["output_path"])
    output_uri = _output_uri(args)
    job = ctx.job_name()

    # the baselining job: statistics.json + constraints.json of this input
    _analyzer(
        {k: v for k, v in env.items() if k not in ("baseline_statistics", "baseline_constraints")}
    )
    calculated = (f"{output_uri}/statistics.json", f"{output_uri}/constraints.json")
    used = calculated
    violations: list[dict[str, Any]] = []
    report = None
    if not skip:
        supplied = (step.get("SuppliedBaselineStatistics"), step.get("SuppliedBaselineConstraints"))
        if not all(supplied):
            supplied = _latest_registered_baseline(ctx, step.get("ModelPackageGroupName"))
        baseline_dir = ctx.workspace / "opt/ml/processing/baseline"
        stats = _fetch(ctx, role, str(supplied[0]), baseline_dir / "statistics")
        constraints = _fetch(ctx, role, str(supplied[1]), baseline_dir / "constraints")
        check_dir = ctx.workspace / "opt/ml/processing/check"
        _analyzer(
            {
                **env,
                "output_path": str(check_dir),
                "baseline_statistics": str(stats),
                "baseline_constraints": str(constraints),
            }
        )
        violations = _violations(check_dir / "constraint_violations.json")
        (check_dir / "constraint_violations.json").replace(
            output_dir / "constraint_violations.json"
        )
        report = f"{output_uri}/constraint_violations.json"
        if not register_new:
            used = (str(supplied[0]), str(supplied[1]))
    ctx.emit_job_log("/aws/sagemaker/ProcessingJobs", job, ctx.log_path)
    publish_outputs(ctx, args)
    for item in violations:
        ctx.log(
            f"violation {item.get('constraint_check_type')} {item.get('feature_name')}: "
            f"{item.get('description')}"
        )
    properties = {
        **job_properties(ctx, args, job),
        "CalculatedBaselineStatistics": calculated[0],
        "CalculatedBaselineConstraints": calculated[1],
        "BaselineUsedForDriftCheckStatistics": used[0],
        "BaselineUsedForDriftCheckConstraints": used[1],
    }
    metadata = {
        "QualityCheck": {
            "CheckType": check_type,
            "SkipCheck": skip,
            "RegisterNewBaseline": register_new,
            "ModelPackageGroupName": step.get("ModelPackageGroupName"),
            "CalculatedBaselineStatistics": calculated[0],
            "CalculatedBaselineConstraints": calculated[1],
            "BaselineUsedForDriftCheckStatistics": used[0],
            "BaselineUsedForDriftCheckConstraints": used[1],
            "CheckJobArn": ctx.arn("processing-job", job),
            # like the report link the console shows: only when violations were found
            **({"ViolationReport": report} if report and violations else {}),
        }
    }
    if violations and step.get("FailOnViolation", True):
        checks = ", ".join(
            f"{v.get('constraint_check_type')}({v.get('feature_name')})" for v in violations[:8]
        )
        raise StepFailed(
            f"ClientError: Quality check failed: {len(violations)} violation(s) found: "
            f"{checks}; see {report}",
            properties=properties,
        )
    return StepOutcome(properties=properties, metadata=metadata)
