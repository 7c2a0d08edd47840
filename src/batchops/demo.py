"""The lifecycle demo: the seed article's whole story on the local cloud, timed per phase.

Phases (each drives the same use cases the CLI exposes, against the local cloud's APIs):

1. ``train``: upsert the model-build pipelines, upload training data, run the training
   pipeline -> v1 registered ``PendingManualApproval``;
2. ``approve-deploy``: approve v1, deploy it to staging, run a clean inference batch there
   (ground truth included: DQ clean, MQ passes), promote it to production;
3. ``drift``: a drifted batch in production whose ground truth the model cannot meet ->
   DQ violations, the model-quality step fails -> retraining with HPO -> v2 pending;
4. ``governance``: approving v2 without a review reference is refused, then approved with
   one; v2 goes to staging, runs, and to production; a rollback to v1 and forward again.

Every figure of ``summary.json`` is read back from the local cloud's records (registry,
pipeline executions, deployment history), not from the demo's bookkeeping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops import registry
from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.data.schema import Layout
from batchops.errors import DataError, GovernanceError, PipelineError
from batchops.fs import atomic_write_text
from batchops.records import internal, read_s3_json

Say = Callable[[str], None]


@dataclass
class DemoRun:
    endpoint: str
    data_dir: Path
    out: Path
    say: Say
    timings: dict[str, float] = field(default_factory=dict)
    #: one-time set-up (SDK definitions, cached across runs): reported, not in ``total``
    setup: dict[str, float] = field(default_factory=dict)
    governance: dict[str, str] = field(default_factory=dict)
    executions: list[tuple[str, str]] = field(default_factory=list)  # (env, arn)

    _clients: dict[str, Clients] = field(default_factory=dict)

    def clients(self, env: str) -> Clients:
        """One set of clients per account (its assumed-role session is reused)."""
        if env not in self._clients:
            self._clients[env] = clients_for(load_settings(env), self.endpoint)
        return self._clients[env]

    @contextmanager
    def phase(self, name: str, *, setup: bool = False) -> Iterator[None]:
        started = time.monotonic()
        self.say(f"== {name}")
        yield
        into = self.setup if setup else self.timings
        into[name] = round(time.monotonic() - started, 2)
        self.say(f"   ({into[name]:.1f}s)")


def _upload(run: DemoRun, env: str, files: dict[Layout, Path]) -> str:
    from batchops.data.upload import upload_files

    settings = load_settings(env)
    uploaded = upload_files(settings, run.clients(env), files)
    return next(u.uri for u in uploaded if u.layout in (Layout.TRAINING, Layout.INFERENCE))


def _executions(run: DemoRun, env: str, pipeline: str) -> set[str]:
    from botocore.exceptions import ClientError

    try:
        listed = (
            run.clients(env)
            .client("sagemaker")
            .list_pipeline_executions(PipelineName=pipeline, MaxResults=100)
        )
    except ClientError:
        return set()
    return {s["PipelineExecutionArn"] for s in listed.get("PipelineExecutionSummaries", [])}


def _await_run(
    run: DemoRun, env: str, key: str, before: set[str], *, why: str, timeout_s: float = 900
) -> dict[str, Any]:
    """Wait for the execution an event started (not one we start), then for its end."""
    from batchops.pipelines import deploy as pipelines
    from batchops.pipelines.project import find_pipeline

    settings = load_settings(env)
    _project, spec = find_pipeline(key, env)
    name = spec.pipeline_name(settings)
    deadline = time.monotonic() + 60
    while not (new := _executions(run, env, name) - before):
        if time.monotonic() > deadline:
            raise PipelineError(
                f"{why} did not start {name} in {env} within 60 s (is the event rule deployed?)"
            )
        time.sleep(0.2)
    if len(new) > 1:
        raise PipelineError(f"{why} started {len(new)} executions of {name}, expected one")
    arn = new.pop()
    described = pipelines.wait(run.clients(env), arn, timeout_s=timeout_s, max_delay_s=0.3)
    run.executions.append((env, arn))
    status = described["PipelineExecutionStatus"]
    reason = described.get("FailureReason")
    run.say(f"   {why} -> {name} in {env}: {status}" + (f" — {reason}" if reason else ""))
    return described


def _await_deployment(run: DemoRun, env: str, version: int, timeout_s: float = 180) -> None:
    from batchops.deploy import read_history

    settings = load_settings(env)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        history = read_history(run.clients(env), settings)
        if history and history[-1]["version"] == version:
            run.say(f"   GitLab deploy job -> v{version} deployed to {env}")
            return
        time.sleep(0.3)
    raise PipelineError(
        f"v{version} was not deployed to {env} within {timeout_s:.0f} s "
        "(see `batchops gitlab triggers`)"
    )


def _deploy(run: DemoRun, env: str, version: int) -> None:
    """A release manager's manual action (the protected production job, or a rollback)."""
    from batchops.deploy import deploy

    record = deploy(env, str(version), endpoint=run.endpoint, actor="demo-release-manager")
    run.say(f"   release manager deployed v{record.version} to {env}")


def _inference(run: DemoRun, env: str, files: dict[Layout, Path]) -> dict[str, Any]:
    before = _executions(run, env, load_settings(env).pipeline_inf)
    _upload(run, env, files)
    described = _await_run(run, env, "inference", before, why="batch upload")
    _say_data_quality(run, env, described["PipelineExecutionArn"])
    if env == "staging":
        _await_evidence(run, described["PipelineExecutionArn"])
    return described


def _say_data_quality(run: DemoRun, env: str, arn: str) -> None:
    """The run's data-quality result, as the notification words it: violations warn."""
    from batchops.pipelines import deploy as pipelines
    from batchops.records import quality_check

    clients = run.clients(env)
    check = {s["StepName"]: s for s in pipelines.steps(clients, arn)}.get("CheckDataQuality")
    if not check or check.get("StepStatus") != "Succeeded":
        return  # a failed check is in the run's FailureReason already
    report = quality_check(clients, check.get("Metadata")) or {}
    found = report.get("violations") or []
    if not found:
        run.say("   data quality (CheckDataQuality): no violations")
        return
    where = ", ".join(
        sorted({f"{v.get('feature_name')} {v.get('constraint_check_type')}" for v in found})
    )
    run.say(
        f"   data quality (CheckDataQuality): WARNING {len(found)} violation(s): {where} "
        "(a warning: the run went on)"
    )


def _await_evidence(run: DemoRun, execution_arn: str, timeout_s: float = 60) -> None:
    """Wait until staging's promotion-evidence function has recorded the run on its model
    version in the registry (an EventBridge delivery after the run ended)."""
    from batchops import promotion

    settings = load_settings("data-science")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for version in registry.list_versions(run.clients("data-science"), settings):
            package = registry.describe_package(run.clients("data-science"), version.arn)
            if (package.get("CustomerMetadataProperties") or {}).get(
                promotion.RUN
            ) == execution_arn:
                return
        time.sleep(0.2)
    raise PipelineError(
        f"the staging run {execution_arn} was not recorded on its model version within "
        f"{timeout_s:.0f} s (is the promotion-evidence rule deployed in staging?)"
    )


def prebuild(say: Say) -> None:
    """Generate (or find cached) every definition the demo needs, two at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from batchops.pipelines.build import build
    from batchops.pipelines.project import project

    jobs = [
        ("model-build", "training", "data-science"),
        ("model-build", "hpo", "data-science"),
        ("model-deploy", "inference", "staging"),
        ("model-deploy", "inference", "production"),
    ]

    def one(job: tuple[str, str, str]) -> bool:
        proj = project(job[0])
        return build(proj, proj.spec(job[1]), load_settings(job[2])).cached

    with ThreadPoolExecutor(max_workers=2) as pool:
        cached = list(pool.map(one, jobs))
    if not all(cached):
        say(
            f"   generated {cached.count(False)} pipeline definition(s) with the SageMaker SDK "
            "(cached for the next runs)"
        )


def phase_train(run: DemoRun) -> None:
    from batchops.pipelines.build import build
    from batchops.pipelines.deploy import upsert
    from batchops.pipelines.project import project

    settings = load_settings("data-science")
    proj = project("model-build")
    for spec in proj.for_environment("data-science"):
        upsert(run.clients("data-science"), settings, build(proj, spec, settings))
    before = _executions(run, "data-science", settings.pipeline_train)
    _upload(run, "data-science", {Layout.TRAINING: run.data_dir / "training-data.csv"})
    described = _await_run(run, "data-science", "training", before, why="training data upload")
    if described["PipelineExecutionStatus"] != "Succeeded":
        raise PipelineError(f"the training pipeline failed: {described.get('FailureReason')}")


def phase_approve_deploy(run: DemoRun, clean: dict[Layout, Path]) -> None:
    settings = load_settings("data-science")
    registry.approve(run.clients("data-science"), settings, 1, note="demo: data scientist")
    run.say("   v1 approved by the data scientist")
    _await_deployment(run, "staging", 1)
    _inference(run, "staging", clean)
    _deploy(run, "production", 1)


def phase_drift(run: DemoRun, drifted: dict[Layout, Path]) -> None:
    ds = load_settings("data-science")
    before_hpo = _executions(run, "data-science", ds.pipeline_trainwhpo)
    described = _inference(run, "production", drifted)
    reason = described.get("FailureReason") or ""
    if described["PipelineExecutionStatus"] == "Failed" and "CheckModelQuality" in reason:
        _await_run(run, "data-science", "hpo", before_hpo, why="model-quality failure event")


def phase_governance(run: DemoRun, clean: dict[Layout, Path]) -> None:
    settings = load_settings("data-science")
    clients = run.clients("data-science")
    latest = registry.list_versions(clients, settings)[-1]
    try:
        registry.approve(clients, settings, latest.version)
        run.governance["hpo_without_review"] = "approved"
    except GovernanceError as exc:
        run.governance["hpo_without_review"] = "refused"
        run.say(f"   refused as expected: {exc}")
    registry.approve(
        clients,
        settings,
        latest.version,
        review_ref="MRC-2026-042",
        note="demo: model review committee",
    )
    run.say(f"   v{latest.version} approved with review MRC-2026-042")
    _await_deployment(run, "staging", latest.version)
    try:
        _deploy(run, "production", latest.version)
        run.governance["production_before_staging_run"] = "allowed"
    except GovernanceError as exc:
        run.governance["production_before_staging_run"] = "refused"
        run.say(f"   production refused before a staging run: {exc}")
    _inference(run, "staging", clean)
    _deploy(run, "production", latest.version)
    run.say("   rollback to v1, then forward again")
    _deploy(run, "staging", 1)
    _deploy(run, "production", 1)
    _deploy(run, "staging", latest.version)
    _deploy(run, "production", latest.version)


# ----- records -> summary ---------------------------------------------------------------
def _inference_run(clients: Clients, env: str, arn: str) -> dict[str, Any]:
    import re

    from batchops.pipelines import deploy as pipelines

    described = pipelines.describe(clients, arn)
    steps = {s["StepName"]: s for s in pipelines.steps(clients, arn)}
    from batchops.records import quality_check

    check = steps.get("CheckDataQuality")
    report = quality_check(clients, check.get("Metadata")) if check else None
    violations = [
        {
            "feature": v.get("feature_name"),
            "check": v.get("constraint_check_type"),
            "description": v.get("description"),
        }
        for v in (report or {}).get("violations", [])
    ]
    quality = None
    mq = steps.get("CheckModelQuality")
    threshold = load_settings(env).accuracy_mse_threshold
    if mq is not None and mq.get("StepStatus") == "Failed":
        match = re.search(r"mse ([0-9.]+)", mq.get("FailureReason", ""))
        quality = {
            "mse": float(match.group(1)) if match else None,
            "threshold": threshold,
            "passed": False,
        }
    elif mq is not None and mq.get("StepStatus") == "Succeeded":
        execution = arn.rsplit("/", 1)[-1]
        settings = load_settings(env)
        uri = (
            f"s3://{settings.bucket_name}/{settings.bucket_prefix}/inference/runs/"
            f"{execution}/model-quality/statistics.json"
        )
        mse = read_s3_json(clients, uri)["regression_metrics"]["mse"]["value"]
        quality = {"mse": round(mse, 4), "threshold": threshold, "passed": True}
    return {
        "env": env,
        "execution": arn,
        "status": described["PipelineExecutionStatus"],
        "data_quality_violations": violations,
        # what ran the check: "ProcessingJob" (batchops' engine) or "QualityCheck"
        "data_quality_job": next(iter((check or {}).get("Metadata") or {}), None),
        "model_quality": quality,
    }


def _retraining(run: DemoRun) -> dict[str, Any]:
    ds = load_settings("data-science")
    started = _executions(run, "data-science", ds.pipeline_trainwhpo)
    notes = internal(run.endpoint, "notifications")
    suppressed = sum(
        1 for n in notes if "retraining" in json.dumps(n) and "not started" in json.dumps(n)
    )
    failed = [
        arn
        for env, arn in run.executions
        if env != "data-science"
        and "CheckModelQuality"
        in str(
            run.clients(env)
            .client("sagemaker")
            .describe_pipeline_execution(PipelineExecutionArn=arn)
            .get("FailureReason", "")
        )
    ]
    return {
        "started": bool(started),
        "executions": sorted(started),
        "reason": f"model quality failed in {failed[0]}" if failed else None,
        "suppressed_duplicates": suppressed,
    }


def summarize(run: DemoRun) -> dict[str, Any]:
    from batchops.deploy import list_deployments

    ds = load_settings("data-science")
    versions = registry.list_versions(run.clients("data-science"), ds)
    inference_arns = [(env, arn) for env, arn in run.executions if env != "data-science"]
    return {
        "model_versions": [
            {
                "version": v.version,
                "source": v.source,
                "status": v.status,
                "rmse": None if v.rmse is None else round(v.rmse, 4),
                "review_ref": v.review_ref,
            }
            for v in versions
        ],
        "deployments": [
            {"env": d["environment"], "version": d["version"], "at": d["at"]}
            for d in list_deployments(None, run.endpoint)
        ],
        "inference_runs": [
            _inference_run(run.clients(env), env, arn) for env, arn in inference_arns
        ],
        "retraining": _retraining(run),
        "gitlab_triggers": len(internal(run.endpoint, "gitlab-triggers")),
        "notifications": len(internal(run.endpoint, "notifications")),
        "governance": run.governance,
        "timings_s": {
            **run.timings,
            "total": round(sum(run.timings.values()), 2),
            **{f"setup: {k}": v for k, v in run.setup.items()},
        },
    }


def prepare_data(data_dir: Path | None, work: Path, seed: int = 7) -> tuple[Path, dict, dict]:
    """The training folder, a clean batch and a drifted batch (files by layout)."""
    from batchops.data.generate import generate
    from batchops.data.validate import require_valid, validate_dataset

    if data_dir is None:
        generated = generate(work / "clean", rows=3000, inference_rows=500, seed=seed)
        shifted = generate(
            work / "drifted",
            rows=10,
            inference_rows=500,
            seed=seed + 1,
            drift="height*1.6,shell_weight*1.5,rings+7",
        )
        batch = {
            layout: generated.files[layout] for layout in (Layout.INFERENCE, Layout.GROUND_TRUTH)
        }
        return (
            work / "clean",
            batch,
            {
                Layout.INFERENCE: shifted.files[Layout.INFERENCE],
                Layout.GROUND_TRUTH: shifted.files[Layout.GROUND_TRUTH],
            },
        )
    for name in ("training-data.csv", "inference-data.csv", "ground-truth.csv"):
        if not (data_dir / name).is_file():
            raise DataError(
                f"{data_dir}: {name} is missing (the article's layout needs "
                "training-data.csv, inference-data.csv, ground-truth.csv)"
            )
    require_valid(validate_dataset(data_dir))
    drifted_dir = work / "drifted"
    _derive_drift(data_dir, drifted_dir)
    clean = {
        Layout.INFERENCE: data_dir / "inference-data.csv",
        Layout.GROUND_TRUTH: data_dir / "ground-truth.csv",
    }
    drifted = {
        Layout.INFERENCE: drifted_dir / "inference-data.csv",
        Layout.GROUND_TRUTH: drifted_dir / "ground-truth.csv",
    }
    return data_dir, clean, drifted


def _derive_drift(data_dir: Path, out: Path) -> None:
    """A drifted copy of the given batch: height x1.6, shell weight x1.5, rings +7."""
    import csv

    out.mkdir(parents=True, exist_ok=True)
    with (
        (data_dir / "inference-data.csv").open(newline="") as src,
        (out / "inference-data.csv").open("w", newline="") as dst,
    ):
        writer = csv.writer(dst)
        for row in csv.reader(src):
            if row:
                row[3] = f"{float(row[3]) * 1.6:.3f}"
                row[7] = f"{float(row[7]) * 1.5:.4f}"
                writer.writerow(row)
    with (
        (data_dir / "ground-truth.csv").open(newline="") as src,
        (out / "ground-truth.csv").open("w", newline="") as dst,
    ):
        writer = csv.writer(dst)
        for row in csv.reader(src):
            if row:
                writer.writerow([str(int(float(row[0])) + 7)])


def run_demo(endpoint: str, data_dir: Path | None, out: Path, say: Say) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    train_dir, clean, drifted = prepare_data(data_dir, out / "data")
    run = DemoRun(endpoint=endpoint, data_dir=train_dir, out=out, say=say)
    with run.phase("0. pipeline definitions (SageMaker SDK; cached across runs)", setup=True):
        prebuild(run.say)
    with run.phase("1. train: upload training data, training pipeline, v1 registered"):
        phase_train(run)
    with run.phase("2. approve v1, deploy to staging, clean batch, promote to production"):
        phase_approve_deploy(run, clean)
    with run.phase("3. drifted batch in production: DQ violations, MQ fails, HPO retraining"):
        phase_drift(run, drifted)
    with run.phase("4. governance: review of the HPO version, promotion, rollback"):
        phase_governance(run, clean)
    summary = summarize(run)
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")
    from batchops.records import collect
    from batchops.report import write_report

    records = collect(endpoint)
    atomic_write_text(out / "records.json", json.dumps(records, indent=1, default=str) + "\n")
    write_report(summary, out / "report.html", records)
    return summary
