"""What a step runner gets (:class:`StepContext`) and gives back (:class:`StepOutcome`).

Containers are emulated by processes: the command of the step (entrypoint + arguments,
or the script-mode driver for training) runs with the Python of the step's image (its
runtime: ``executor.containers.runtimes``; the project's Python, with a WARNING in the
step log, where the image's could not be built), in a per-step
workspace where ``/opt/ml/...`` is a real folder. Every argument or environment value
that starts with ``/opt/ml/`` is rewritten to that folder, and ``BATCHOPS_CONTAINER_ROOT``
names it, so scripts written for SageMaker run unchanged. The step fails the way a
SageMaker job does: non-zero exit, ``FailureReason`` from ``/opt/ml/output/failure`` (or
``message``) when the script wrote one, else the last line it printed to stderr.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.containers.runtimes import Runtime, UnknownImage, runtime_for
from batchops.localcloud.executor.processes import ProcessLedger

_OPT_ML = re.compile(r"(?<![\w/.])/opt/ml(?=/|$)")
#: Environment variables a container may inherit from the host (no credentials).
_HOST_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "OMP_NUM_THREADS")


class StepFailed(Exception):
    """The step failed; ``reason`` becomes its FailureReason."""

    def __init__(self, reason: str, properties: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.properties = properties or {}


def volume_key(ctx: StepContext, value: Any, field: str, role_arn: Any) -> None:
    """Check a job's volume key as SageMaker does before the job starts.

    * The field takes a key id or key ARN, not an alias (API reference:
      ``ResourceConfig.VolumeKmsKeyId``, ``ClusterConfig.VolumeKmsKeyId``).
    * Under enforcement, SageMaker creates a grant on the key for the job's volumes with the
      job's role. So the role needs ``kms:CreateGrant`` with ``kms:GrantIsForAWSResource``
      true. It is evaluated on its policies and the key policy. The wording of SageMaker's
      refusal is not documented; the reason quotes IAM's message.
    """
    from batchops.localcloud.aws.kms.grants import is_alias

    text = str(value or "")
    if is_alias(text):
        raise StepFailed(
            f"ValidationException: {field} {text!r} is a KMS alias; {field} takes a KMS key "
            "id or key ARN"
        )
    if not text or not role_arn:
        return
    from batchops.localcloud.aws.iam.authorization import (
        enforcing,
        key_use_refusal,
    )
    from batchops.localcloud.aws.iam.principals import RolePolicies

    if not enforcing(SimpleNamespace(options=ctx.options)):
        return
    role = RolePolicies(str(role_arn))
    refusal = key_use_refusal(
        role.session("SageMaker"),
        role,
        text,
        owner=ctx.account_id,
        region=ctx.region,
        kms_action="kms:CreateGrant",
        service="sagemaker",
        context={"kms:GrantIsForAWSResource": "true", "kms:GranteePrincipal": str(role_arn)},
    )
    if refusal is not None:
        raise StepFailed(
            f"ClientError: the role cannot create a grant on {field} {text} for the job's "
            f"volumes: AccessDeniedException: {refusal}"
        )


class StepStopped(Exception):
    """The execution was stopped while the step ran."""


@dataclass
class StepOutcome:
    properties: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, str] = field(default_factory=dict)  # name -> s3 uri
    outcome: bool | None = None  # Condition steps


@dataclass
class StepContext:
    step_name: str
    step_type: str
    execution_id: str
    execution_arn: str
    pipeline_name: str
    account_id: str
    region: str
    workspace: Path
    log_path: Path
    clients_for_role: Callable[[str | None], Any]
    properties_of: Callable[[str], dict[str, Any]]
    stop_event: threading.Event
    options: Mapping[str, Any]
    emit_job_log: Callable[..., None]  #: (group, job, log path[, host]): the job's log stream

    def job_name(self, kind: str = "") -> str:
        """SageMaker-like job names: ``pipelines-<execution>-<step>-<random>``."""
        step = re.sub(r"[^A-Za-z0-9-]", "-", self.step_name)[:24]
        suffix = secrets.token_hex(3)
        name = f"pipelines-{self.execution_id}-{step}{('-' + kind) if kind else ''}-{suffix}"
        return name[:63].rstrip("-")

    def arn(self, resource: str, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{resource}/{name.lower()}"

    def log(self, text: str) -> None:
        with self.log_path.open("a", encoding="utf-8") as handle:
            handle.write(text.rstrip("\n") + "\n")

    def container_path(self, path: str) -> Path:
        if not path.startswith("/opt/ml"):
            raise PipelineError(f"container path {path!r} is outside /opt/ml")
        return self.workspace / path.lstrip("/")

    def remap(self, value: str) -> str:
        return _OPT_ML.sub(str(self.workspace / "opt" / "ml"), value)

    def s3(self, role_arn: str | None) -> Any:
        return self.clients_for_role(role_arn).client("s3")

    def sagemaker(self, role_arn: str | None) -> Any:
        return self.clients_for_role(role_arn).client("sagemaker")


def role_credentials(ctx: StepContext) -> dict[str, str]:
    """The execution role's temporary credentials, as SageMaker hands them to a job's
    container (there through the container credentials endpoint), plus the endpoint."""
    role = ctx.options.get("pipeline_role_arn")
    endpoint = ctx.options.get("endpoint")
    if not role or not endpoint:
        return {}
    credentials = ctx.clients_for_role(role).session().get_credentials()
    if credentials is None:
        return {}
    frozen = credentials.get_frozen_credentials()
    values = {
        "AWS_ENDPOINT_URL": str(endpoint),
        "AWS_ACCESS_KEY_ID": frozen.access_key,
        "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
    }
    if frozen.token:
        values["AWS_SESSION_TOKEN"] = frozen.token
    return values


def container_environment(
    ctx: StepContext, environment: Mapping[str, Any] | None
) -> dict[str, str]:
    env = {key: os.environ[key] for key in _HOST_ENV if key in os.environ}
    env.update(
        {
            "BATCHOPS_CONTAINER_ROOT": str(ctx.workspace),
            "AWS_REGION": ctx.region,
            "AWS_DEFAULT_REGION": ctx.region,
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    env.setdefault("OMP_NUM_THREADS", _threads_per_job(ctx.options))
    cache = ctx.options.get("wheel_cache_dir")
    if cache:  # the local cloud's unpack cache for shipped wheels (batchops.monitor.job)
        env["BATCHOPS_LOCAL_WHEEL_CACHE"] = str(cache)
    env.update(role_credentials(ctx))
    for key, value in (environment or {}).items():
        env[str(key)] = ctx.remap(str(value))
    return env


def _threads_per_job(options: Mapping[str, Any]) -> str:
    return str(options.get("threads_per_job", 1))


def prewarm_containers(options: Mapping[str, Any]) -> list[threading.Thread]:
    """Start, in the background, the warm zygote of every image runtime built here, keyed as
    a step's container environment keys it (the host's ``OMP_NUM_THREADS``, else the
    executor's ``threads_per_job``), so the first step of each image forks at once."""
    from batchops.localcloud.executor.containers import warm
    from batchops.localcloud.executor.containers.runtimes import built_runtimes

    if not warm.enabled(options):
        return []
    threads = os.environ.get("OMP_NUM_THREADS")
    env = {"OMP_NUM_THREADS": threads if threads is not None else _threads_per_job(options)}
    return warm.prewarm([runtime.python for runtime in built_runtimes(options)], env)


def image_runtime(ctx: StepContext, image_uri: str) -> Runtime:
    """The runtime of the step's image; the step fails on an image the local cloud does not
    know (naming it and the known ones), and logs the warning of a fallback."""
    try:
        runtime = runtime_for(image_uri, ctx.options)
    except UnknownImage as exc:
        raise StepFailed(f"ClientError: {exc}") from None
    if runtime.warning:
        ctx.log(runtime.warning)
    elif runtime.is_image:
        ctx.log(f"image runtime: {runtime.name} ({runtime.python})")
    return runtime


def _python(command: list[str], runtime: Runtime | None) -> list[str]:
    """``python3``/``python`` in a container command means the image runtime's interpreter
    (the project's without one)."""
    if command and re.fullmatch(r"python(3(\.\d+)?)?", Path(command[0]).name):
        return [runtime.python if runtime else sys.executable, *command[1:]]
    return command


def failure_reason(ctx: StepContext, tail: Sequence[str], code: int) -> str:
    for name in ("failure", "message"):
        path = ctx.workspace / "opt" / "ml" / "output" / name
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace").strip()
            if text:
                return f"AlgorithmError: {text.splitlines()[-1][:1000]}"
    lines = [line.strip() for line in tail if line.strip()]
    last = lines[-1] if lines else f"the container exited with code {code}"
    return f"AlgorithmError: {last[:1000]} (exit code {code})"


def _start(
    ctx: StepContext,
    argv: list[str],
    cwd: Path,
    environment: Mapping[str, str],
    runtime: Runtime | None,
) -> Any:
    """A warm fork for Python commands (see ``executor.containers.warm``: a zygote of the
    image runtime's interpreter), else a subprocess."""
    from batchops.localcloud.executor.containers import warm

    python = runtime.python if runtime else sys.executable
    if argv and argv[0] == python and warm.supports(argv) and warm.enabled(ctx.options):
        try:
            return warm.spawn(argv, cwd, environment)
        except OSError:
            pass  # no zygote (e.g. no Unix sockets): a cold start still works
    return subprocess.Popen(
        argv,
        cwd=cwd,
        env=dict(environment),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def run_container(
    ctx: StepContext,
    command: Sequence[str],
    *,
    environment: Mapping[str, str],
    cwd: Path,
    timeout_s: float | None,
    log_path: Path | None = None,
    on_line: Callable[[str], None] | None = None,
    runtime: Runtime | None = None,
) -> None:
    """Run ``command`` (``python`` in it: ``runtime``'s interpreter); stream its output to the
    log; raise :class:`StepFailed` on error."""
    argv = _python([ctx.remap(str(part)) for part in command], runtime)
    log_path = log_path or ctx.log_path
    tail: list[str] = []
    started = time.monotonic()
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        try:
            process = _start(ctx, argv, cwd, environment, runtime)
        except OSError as exc:
            raise StepFailed(f"ClientError: cannot start {argv[0]!r}: {exc.strerror}") from None
        assert process.stdout is not None
        pid_file = _ledger(ctx).record(process.pid, ctx.step_name)
        watchdog = threading.Thread(
            target=_watch, args=(process, ctx.stop_event, started, timeout_s), daemon=True
        )
        watchdog.start()
        try:
            for line in process.stdout:
                log.write(line)
                tail.append(line)
                if len(tail) > 50:
                    del tail[:-50]
                if on_line:
                    on_line(line)
            code = process.wait()
        finally:
            ProcessLedger.forget(pid_file)
    if ctx.stop_event.is_set():
        raise StepStopped()
    if timeout_s and time.monotonic() - started > timeout_s and code != 0:
        raise StepFailed(f"ClientError: the job exceeded MaxRuntimeInSeconds={timeout_s:g}")
    if code != 0:
        raise StepFailed(failure_reason(ctx, tail, code))


def _ledger(ctx: StepContext) -> ProcessLedger:
    """Where this execution's running processes are recorded (see ``executor.processes``)."""
    return ProcessLedger(Path(ctx.options.get("process_dir") or ctx.workspace / "processes"))


def _watch(process: Any, stop: threading.Event, started: float, timeout_s: float | None) -> None:
    while process.poll() is None:
        if stop.wait(0.2) or (timeout_s and time.monotonic() - started > timeout_s):
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
            return
