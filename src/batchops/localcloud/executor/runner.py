"""Runs pipeline executions: schedules steps by their dependencies, concurrently.

A step starts once every step it depends on has succeeded; independent steps run in
parallel (``ParallelismConfiguration.MaxParallelExecutionSteps``, else the local cloud's
default). When a step fails nothing new starts, running steps finish, and the execution
fails with the failing step's reason (a Fail step's reason is its message). Steps in the
branch a Condition did not take, and steps that depend on them, do not run. Every status
change is emitted as the EventBridge event SageMaker sends.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from batchops.aws import Clients
from batchops.errors import BatchopsError, PipelineError
from batchops.localcloud.executor.conditions import evaluate_conditions
from batchops.localcloud.executor.context import StepContext, StepFailed, StepOutcome, StepStopped
from batchops.localcloud.executor.definition import Definition, StepDef, parse_definition
from batchops.localcloud.executor.expressions import Resolver, load_json_document
from batchops.localcloud.executor.hooks import ExecutorHooks, HookRelay
from batchops.localcloud.executor.storage import read_text
from batchops.localcloud.executor.store import ExecutionRecord, ExecutionStore, StepRecord, now

log = logging.getLogger(__name__)


def _iso(moment: Any) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


class Executor:
    """Owns the worker threads; one instance per local cloud."""

    def __init__(
        self,
        store: ExecutionStore,
        *,
        endpoint: str,
        hooks: Sequence[ExecutorHooks] = (),
        options: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self.hooks = HookRelay(hooks)
        self.options = {
            "max_parallel_steps": 4,
            "endpoint": endpoint,
            "max_parallel_trials": 2,
            "keep_workspaces": False,
            **(options or {}),
        }
        self._executions = ThreadPoolExecutor(max_workers=8, thread_name_prefix="execution")
        self._stops: dict[str, threading.Event] = {}
        self._clients: dict[tuple[str, str | None], Clients] = {}
        self._lock = threading.Lock()
        self._running: dict[str, Future[None]] = {}

    # ----- public API used by the server ----------------------------------------------
    def submit(self, record: ExecutionRecord) -> None:
        self.store.add(record)
        stop = threading.Event()
        with self._lock:
            self._stops[record.arn] = stop
            self._running[record.arn] = self._executions.submit(self._run, record, stop)

    def stop(self, arn: str) -> None:
        record = self.store.get(arn)
        if record is None:
            raise PipelineError(f"pipeline execution {arn} not found")
        with self._lock:
            stop = self._stops.get(arn)
        if stop and record.status == "Executing":
            with self.store.lock:
                previous, record.status = record.status, "Stopping"
                self.store.save(record)
            self._emit_execution(record, previous)
            stop.set()

    def wait_idle(self, timeout: float | None = None) -> None:
        with self._lock:
            futures = list(self._running.values())
        wait(futures, timeout=timeout)

    def shutdown(self) -> None:
        with self._lock:
            stops = list(self._stops.values())
        for stop in stops:
            stop.set()
        self._executions.shutdown(wait=True, cancel_futures=True)

    def clients(self, account_id: str, region: str, role_arn: str | None) -> Clients:
        key = (account_id, role_arn)
        with self._lock:
            if key not in self._clients:
                role = role_arn if role_arn and f":{account_id}:" in role_arn else None
                self._clients[key] = Clients(
                    region=region,
                    endpoint=self.endpoint,
                    role_arn=role or f"arn:aws:iam::{account_id}:role/batchops-local-executor",
                    session_name="sagemaker-pipeline",
                )
            return self._clients[key]

    # ----- one execution ----------------------------------------------------------------
    def _run(self, record: ExecutionRecord, stop: threading.Event) -> None:
        try:
            self._emit_execution(record, None)
            definition = parse_definition(
                load_json_document(record.definition, "pipeline definition")
            )
            overrides = {p["Name"]: p["Value"] for p in record.parameters}
            record.resolved_parameters = definition.resolve_parameters(overrides)
            failure = _Run(self, record, definition, stop).run()
        except BatchopsError as exc:
            failure = str(exc)
        except Exception as exc:  # a bug in the executor must still end the execution
            log.exception("executor crashed on %s", record.arn)
            failure = f"InternalError: {type(exc).__name__}: {exc}"
        self.hooks.execution_finishing(record)
        with self.store.lock:
            previous = record.status
            if stop.is_set():
                record.status = "Stopped"
            elif failure:
                record.status, record.failure_reason = "Failed", failure
            else:
                record.status = "Succeeded"
            record.ended = now()
            self.store.save(record)
        self._emit_execution(record, previous)

    def _emit_execution(self, record: ExecutionRecord, previous: str | None) -> None:
        self.hooks.execution_status_changed(record, previous)

    def emit_step(self, record: ExecutionRecord, step: StepRecord, previous: str | None) -> None:
        self.hooks.step_status_changed(record, step, previous)

    def emit_job_log(
        self, record: ExecutionRecord, group: str, job: str, path: Path, host: str = "algo-1"
    ) -> None:
        self.hooks.job_log_written(record, group, job, path, host)


class _Run:
    """The scheduling loop of one execution."""

    def __init__(
        self,
        executor: Executor,
        record: ExecutionRecord,
        definition: Definition,
        stop: threading.Event,
    ) -> None:
        self.executor = executor
        self.record = record
        self.definition = definition
        self.stop = stop
        self.succeeded: set[str] = set()
        self.skipped: set[str] = set()
        self.failure: str | None = None
        self.property_cache: dict[tuple[str, str], Any] = {}
        self.logs_dir = executor.store.logs_dir(record)
        self.resolver = Resolver(
            record.resolved_parameters,
            {
                "PipelineExecutionId": record.execution_id,
                "PipelineExecutionArn": record.arn,
                "PipelineName": record.pipeline_name,
                "PipelineArn": record.pipeline_arn,
                "CurrentDateTime": _iso(now()),
                "PipelineExecutionStartTime": _iso(record.created),
            },
            self._properties,
            self._read_property_file,
        )

    def _properties(self, name: str) -> dict[str, Any]:
        step = self.record.steps.get(name)
        if step is None or step.status != "Succeeded":
            raise PipelineError(
                f"step {name!r} has not succeeded, its properties are not available"
            )
        return step.properties

    def _read_property_file(self, step_name: str, file_name: str) -> Any:
        key = (step_name, file_name)
        if key not in self.property_cache:
            step = self.record.steps.get(step_name)
            uri = step.property_files.get(file_name) if step else None
            if not uri:
                raise PipelineError(f"step {step_name!r} declares no property file {file_name!r}")
            clients = self.executor.clients(
                self.record.account_id, self.record.region, self.record.role_arn
            )
            self.property_cache[key] = load_json_document(read_text(clients.client("s3"), uri), uri)
        return self.property_cache[key]

    def _ready(self, step: StepDef) -> bool | None:
        """True: can start; False: wait; None: will never run (a dependency was skipped)."""
        if step.branch_of:
            condition, branch = step.branch_of
            record = self.record.steps.get(condition)
            if (
                record
                and record.status == "Succeeded"
                and record.properties.get("Outcome") != branch
            ):
                return None
        if any(dep in self.skipped for dep in step.depends_on):
            return None
        return all(dep in self.succeeded for dep in step.depends_on)

    def run(self) -> str | None:
        pending = dict(self.definition.steps)
        limit = self.record.parallelism or int(self.executor.options["max_parallel_steps"])
        with ThreadPoolExecutor(max_workers=max(1, limit), thread_name_prefix="step") as pool:
            running: dict[Future[None], str] = {}
            while pending or running:
                if not self.failure and not self.stop.is_set():
                    for name, step in list(pending.items()):
                        if len(running) >= limit:
                            break
                        ready = self._ready(step)
                        if ready is None:
                            self.skipped.add(name)
                            del pending[name]
                        elif ready:
                            del pending[name]
                            running[pool.submit(self._run_step, step)] = name
                else:
                    pending.clear()
                if not running:
                    if pending and not any(self._ready(s) for s in pending.values()):
                        # everything left waits on something that will not happen
                        self.skipped.update(pending)
                        pending.clear()
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    running.pop(future)
        return self.failure

    def _run_step(self, step: StepDef) -> None:
        record = StepRecord(name=step.name, type=step.type, start_time=now())
        record.log_path = str(self.logs_dir / f"{step.name}.log")
        with self.executor.store.lock:
            self.record.steps[step.name] = record
            self.executor.store.save(self.record)
        self.executor.emit_step(self.record, record, None)
        self._transition(record, "Executing")
        try:
            outcome = self._dispatch(step, record)
        except StepStopped:
            self._finish(record, "Stopped", None)
            return
        except StepFailed as exc:
            record.properties = exc.properties
            self._finish(record, "Failed", exc.reason)
            return
        except BatchopsError as exc:
            self._finish(record, "Failed", f"ClientError: {exc}")
            return
        except Exception as exc:
            log.exception("step %s crashed", step.name)
            self._finish(record, "Failed", f"InternalError: {type(exc).__name__}: {exc}")
            return
        record.properties = outcome.properties
        record.metadata = outcome.metadata
        record.property_files = outcome.property_files
        if outcome.outcome is not None:
            record.properties["Outcome"] = outcome.outcome
        self._finish(record, "Succeeded", None)

    def _transition(self, record: StepRecord, status: str) -> None:
        with self.executor.store.lock:
            previous, record.status = record.status, status
            self.executor.store.save(self.record)
        self.executor.emit_step(self.record, record, previous)

    def _finish(self, record: StepRecord, status: str, reason: str | None) -> None:
        with self.executor.store.lock:
            previous, record.status = record.status, status
            record.end_time = now()
            record.failure_reason = reason
            if status == "Succeeded":
                self.succeeded.add(record.name)
            elif status == "Failed" and not self.failure:
                if record.type == "Fail":
                    self.failure = reason
                else:
                    self.failure = f"Step {record.name} failed: {reason}"
            self.executor.store.save(self.record)
        self.executor.emit_step(self.record, record, previous)
        workspace = self.logs_dir / "workspaces" / record.name
        if status == "Succeeded" and not self.executor.options.get("keep_workspaces"):
            shutil.rmtree(workspace, ignore_errors=True)

    def _context(self, step: StepDef, record: StepRecord) -> StepContext:
        workspace = self.logs_dir / "workspaces" / step.name
        workspace.mkdir(parents=True, exist_ok=True)
        account, region, run = self.record.account_id, self.record.region, self.record
        return StepContext(
            step_name=step.name,
            step_type=step.type,
            execution_id=run.execution_id,
            execution_arn=run.arn,
            pipeline_name=run.pipeline_name,
            account_id=account,
            region=region,
            workspace=workspace,
            log_path=Path(record.log_path or workspace / "log.txt"),
            clients_for_role=lambda role: self.executor.clients(
                account, region, role or run.role_arn
            ),
            properties_of=self._properties,
            stop_event=self.stop,
            options={
                **self.executor.options,
                "pipeline_role_arn": run.role_arn,
                "process_dir": str(self.logs_dir / "processes"),
            },
            emit_job_log=lambda group, job, path, host="algo-1": self.executor.emit_job_log(
                run, group, job, path, host
            ),
        )

    def _dispatch(self, step: StepDef, record: StepRecord) -> StepOutcome:
        from batchops.localcloud.executor.steps import dispatch

        ctx = self._context(step, record)
        if step.type == "Condition":
            verdict = evaluate_conditions(self.resolver, step.arguments.get("Conditions") or [])
            ctx.log(f"condition evaluated to {verdict}")
            return StepOutcome(
                properties={"Outcome": verdict},
                metadata={"Condition": {"Outcome": str(verdict).lower()}},
                outcome=verdict,
            )
        if step.type == "Fail":
            message = self.resolver.resolve(step.arguments.get("ErrorMessage", ""))
            message = str(message) if message not in (None, "") else f"Fail step {step.name}"
            record.metadata = {"Fail": {"ErrorMessage": message}}
            raise StepFailed(message)
        args = self.resolver.resolve(step.arguments)
        raw = self.resolver.resolve(
            {k: v for k, v in step.raw.items() if k not in ("Arguments", "Name", "Type")}
        )
        outcome = dispatch(step.type, ctx, args, raw)
        outcome.property_files = _property_files(step, args)
        ctx.log(f"step {step.name} succeeded")
        return outcome


def _property_files(step: StepDef, args: dict[str, Any]) -> dict[str, str]:
    outputs = {
        item.get("OutputName"): item.get("S3Output", {}).get("S3Uri")
        for item in (args.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    }
    files = {}
    for spec in step.property_files:
        base = outputs.get(spec.get("OutputName"))
        if not base:
            raise PipelineError(
                f"property file {spec.get('PropertyFileName')}: "
                f"no output {spec.get('OutputName')!r}"
            )
        files[spec["PropertyFileName"]] = f"{str(base).rstrip('/')}/{spec['FilePath']}"
    return files


def dumps(value: Any) -> str:
    return json.dumps(value, default=str)
