"""``summary.json`` of a demo, read back from the cloud's records — never from the demo's
own bookkeeping, and never out of failure messages.

What each inference run concluded comes from the files the lifecycle contract names
(:mod:`batchops.lifecycle`): the model-quality verdict ``quality.json`` (``metric``,
``value``, ``threshold``, ``passed``), the batch report ``batch.json`` (missing values and
categories training never saw, per column), the data-quality violation report; whether a
step failed from the execution's steps.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from batchops import lifecycle, registry
from batchops.config import load_settings
from batchops.records import internal

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.data.spec import DatasetSpec
    from batchops.demo import DemoRun


def _violations(clients: Clients, step: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The data-quality step's violations, for either engine (a Processing step's report is
    found through DescribeProcessingJob, a QualityCheck's through its metadata)."""
    from batchops.records import quality_check

    report = quality_check(clients, (step or {}).get("Metadata")) if step else None
    return [
        {
            "feature": v.get("feature_name"),
            "check": v.get("constraint_check_type"),
            "description": v.get("description"),
        }
        for v in (report or {}).get("violations", [])
    ]


def model_quality_failed(clients: Clients, arn: str) -> bool:
    """Whether the run's model-quality step failed (its step record, not a message)."""
    from batchops.pipelines import deploy as pipelines

    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    step = steps.get(lifecycle.MODEL_QUALITY_STEP) or {}
    return step.get("StepStatus") == "Failed"


def inference_run(clients: Clients, env: str, arn: str) -> dict[str, Any]:
    from batchops.pipelines import deploy as pipelines

    settings = load_settings(env)
    described = pipelines.describe(clients, arn)
    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    quality = None
    target = None
    if lifecycle.MODEL_QUALITY_STEP in steps:
        verdict = lifecycle.read_verdict(clients, settings, arn)
        if verdict is not None:
            quality = {
                "metric": verdict.metric,
                "value": None if verdict.value is None else round(verdict.value, 4),
                "threshold": verdict.threshold,
                "passed": verdict.passed,
            }
            target = verdict.target_distribution
    batch = lifecycle.read_batch_report(clients, settings, arn) or {}
    check = steps.get(lifecycle.INFERENCE_STEPS["data_quality"])
    return {
        "env": env,
        "execution": arn,
        "status": described["PipelineExecutionStatus"],
        "data_quality_violations": _violations(clients, check),
        # what ran the check: "ProcessingJob" (batchops' engine) or "QualityCheck"
        "data_quality_job": next(iter((check or {}).get("Metadata") or {}), None),
        "model_quality": quality,
        "missing_values": batch.get("missing", {}),
        "unseen_categories": batch.get("unseen", {}),
        "unknown_labels": batch.get("unknown_labels", {}),
        "target_distribution": target,
    }


def retraining(run: DemoRun) -> dict[str, Any]:
    ds = load_settings("data-science")
    started = run.executions_of("data-science", ds.pipeline_trainwhpo)
    notes = internal(run.endpoint, "notifications")
    suppressed = sum(
        1 for n in notes if "retraining" in json.dumps(n) and "not started" in json.dumps(n)
    )
    failed = [
        arn
        for env, arn in run.executions
        if env != "data-science" and model_quality_failed(run.clients(env), arn)
    ]
    return {
        "started": bool(started),
        "executions": sorted(started),
        "reason": f"model quality failed in {failed[0]}" if failed else None,
        "suppressed_duplicates": suppressed,
    }


def version_row(version: registry.ModelVersion) -> dict[str, Any]:
    row: dict[str, Any] = {
        "version": version.version,
        "source": version.source,
        "status": version.status,
        "metric": version.metric,
        "value": None if version.value is None else round(version.value, 4),
    }
    if version.rmse is not None:  # regression (the article's Abalone): RMSE as before
        row["rmse"] = round(version.rmse, 4)
    row["review_ref"] = version.review_ref
    return row


def dataset_summary(spec: DatasetSpec) -> dict[str, Any]:
    ds = load_settings("data-science")
    return {
        "name": spec.name,
        "problem_type": spec.problem_type,
        "metric": spec.quality.metric,
        "threshold": spec.threshold(ds.accuracy_mse_threshold),
        "higher_is_better": spec.quality.spec.higher_is_better,
        "target": spec.target.name,
        "columns": list(spec.columns),
        "spec": str(spec.path) if spec.path else None,
    }


def summarize(run: DemoRun) -> dict[str, Any]:
    from batchops.deploy import list_deployments

    ds = load_settings("data-science")
    versions = registry.list_versions(run.clients("data-science"), ds)
    inference_arns = [(env, arn) for env, arn in run.executions if env != "data-science"]
    return {
        "dataset": dataset_summary(run.spec),
        "model_versions": [version_row(v) for v in versions],
        "deployments": [
            {"env": d["environment"], "version": d["version"], "at": d["at"]}
            for d in list_deployments(None, run.endpoint)
        ],
        "inference_runs": [
            inference_run(run.clients(env), env, arn) for env, arn in inference_arns
        ],
        "retraining": retraining(run),
        "gitlab_triggers": len(internal(run.endpoint, "gitlab-triggers")),
        "notifications": len(internal(run.endpoint, "notifications")),
        "governance": run.governance,
        "timings_s": {
            **run.timings,
            "total": round(sum(run.timings.values()), 2),
            **{f"setup: {k}": v for k, v in run.setup.items()},
        },
    }
