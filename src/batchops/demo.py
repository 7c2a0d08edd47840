"""The lifecycle demo: the seed article's whole story on the local cloud, timed per phase.

Phases (each drives the same use cases the CLI exposes, against the local cloud's APIs):

1. ``train``: upsert the model-build pipelines, upload training data, run the training
   pipeline -> v1 registered ``PendingManualApproval``;
2. ``approve-deploy``: approve v1, deploy it to staging, run a clean inference batch there
   (ground truth included: DQ clean, MQ passes), promote it to production;
3. ``drift``: a drifted batch in production whose ground truth the model cannot meet ->
   DQ violations, the model-quality step fails -> retraining with HPO -> v2 pending (the
   drift is the dataset spec's ``drift`` line, or one derived from the spec);
4. ``governance``: approving v2 without a review reference is refused, then approved with
   one; v2 goes to staging, runs, and to production; a rollback to v1 and forward again.

The dataset is any spec (``--dataset``; Abalone by default) with generated data or the
user's three CSVs (``--data-dir``). Every figure of ``summary.json`` is read back from the
local cloud's records (registry, pipeline executions, deployment history, the lifecycle
contract's files; :mod:`batchops.demo_summary`), not from the demo's bookkeeping.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops import lifecycle, registry
from batchops.aws import Clients, clients_for, error_message
from batchops.config import load_settings
from batchops.data.schema import Layout
from batchops.data.spec import DatasetSpec
from batchops.errors import DataError, GovernanceError, PipelineError
from batchops.fs import atomic_write_text, json_default

Say = Callable[[str], None]


@dataclass
class DemoRun:
    endpoint: str
    data_dir: Path
    out: Path
    say: Say
    spec: DatasetSpec
    timings: dict[str, float] = field(default_factory=dict)
    #: one-time set-up (SDK definitions, cached across runs): reported, not in ``total``
    setup: dict[str, float] = field(default_factory=dict)
    governance: dict[str, str] = field(default_factory=dict)
    executions: list[tuple[str, str]] = field(default_factory=list)  # (env, arn)

    _clients: dict[str, Clients] = field(default_factory=dict)

    def clients(self, env: str) -> Clients:
        """What a person does (upload data, approve, watch runs) acts as the account's
        administrator, as a user with their own SSO access would; what CI does (upsert,
        deploy) acts as the deploy role, checked (:func:`ci_clients`)."""
        if env not in self._clients:
            from batchops.localcloud.credentials import admin_clients

            self._clients[env] = admin_clients(load_settings(env), self.endpoint, "demo-user")
        return self._clients[env]

    def ci_clients(self, env: str) -> Clients:
        """The deploy role, as a GitLab CI job assumes it (its policies apply)."""
        key = f"ci:{env}"
        if key not in self._clients:
            self._clients[key] = clients_for(load_settings(env), self.endpoint)
        return self._clients[key]

    def executions_of(self, env: str, pipeline: str) -> set[str]:
        return _executions(self, env, pipeline)

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
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFound":
            return set()
        raise PipelineError(
            f"cannot list {pipeline}'s executions in {env}: {error_message(exc)}"
        ) from None
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
        time.sleep(0.1)
    if len(new) > 1:
        raise PipelineError(f"{why} started {len(new)} executions of {name}, expected one")
    arn = new.pop()
    described = pipelines.wait(run.clients(env), arn, timeout_s=timeout_s, max_delay_s=0.2)
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
        time.sleep(0.1)
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

    clients, name = run.clients(env), lifecycle.INFERENCE_STEPS["data_quality"]
    check = {s["StepName"]: s for s in pipelines.steps(clients, arn)}.get(name)
    if not check or check.get("StepStatus") != "Succeeded":
        return  # a failed check is in the run's FailureReason already
    report = quality_check(clients, check.get("Metadata")) or {}
    found = report.get("violations") or []
    if not found:
        run.say(f"   data quality ({name}): no violations")
        return
    where = ", ".join(
        sorted({f"{v.get('feature_name')} {v.get('constraint_check_type')}" for v in found})
    )
    run.say(
        f"   data quality ({name}): WARNING {len(found)} violation(s): {where} "
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
        upsert(run.ci_clients("data-science"), settings, build(proj, spec, settings))
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
    from batchops.demo_summary import model_quality_failed

    ds = load_settings("data-science")
    before_hpo = _executions(run, "data-science", ds.pipeline_trainwhpo)
    described = _inference(run, "production", drifted)
    arn = described["PipelineExecutionArn"]
    if model_quality_failed(run.clients("production"), arn):
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


def prepare_data(
    data_dir: Path | None, work: Path, spec: DatasetSpec, seed: int = 7
) -> tuple[Path, dict, dict]:
    """The training folder, a clean batch and a drifted batch (files by layout).

    Without ``data_dir`` the spec's generator draws 3,000 training rows and a batch of 500,
    and the drifted batch is a second draw with the drift applied; with it, the user's
    files are validated against the spec and the drifted batch is derived from theirs.
    """
    from batchops.data.batches import default_drift, drift_batch, training_labels
    from batchops.data.generate import generate
    from batchops.data.validate import require_valid, validate_dataset

    if data_dir is None:
        generated = generate(work / "clean", rows=3000, inference_rows=500, seed=seed, spec=spec)
        drift = default_drift(spec, generated.files[Layout.TRAINING])
        shifted = generate(
            work / "drifted", rows=10, inference_rows=500, seed=seed + 1, drift=drift, spec=spec
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
    require_valid(validate_dataset(data_dir, spec=spec))
    training = data_dir / "training-data.csv"
    clean = {
        Layout.INFERENCE: data_dir / "inference-data.csv",
        Layout.GROUND_TRUTH: data_dir / "ground-truth.csv",
    }
    drifted = drift_batch(
        spec,
        default_drift(spec, training),
        clean[Layout.INFERENCE],
        clean[Layout.GROUND_TRUTH],
        work / "drifted",
        labels=training_labels(spec, training) if spec.classification else (),
    )
    return data_dir, clean, drifted


def run_demo(
    endpoint: str, data_dir: Path | None, out: Path, say: Say, spec: DatasetSpec | None = None
) -> dict[str, Any]:
    from batchops.data.spec import current_spec
    from batchops.demo_summary import summarize

    spec = spec or current_spec()
    out.mkdir(parents=True, exist_ok=True)
    train_dir, clean, drifted = prepare_data(data_dir, out / "data", spec)
    run = DemoRun(endpoint=endpoint, data_dir=train_dir, out=out, say=say, spec=spec)
    gate = spec.quality.metric
    say(f"dataset {spec.name}: {spec.problem_type} of {spec.target.name}, gate {gate}")
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
    atomic_write_text(
        out / "summary.json", json.dumps(summary, indent=2, default=json_default) + "\n"
    )
    from batchops.records import collect
    from batchops.report import write_report

    records = collect(endpoint, run.clients)
    atomic_write_text(
        out / "records.json", json.dumps(records, indent=1, default=json_default) + "\n"
    )
    write_report(summary, out / "report.html", records)
    return summary
