"""A GitLab stand-in on 127.0.0.1: the API calls batchops makes, and the deploy job.

It answers what python-gitlab sends for a pipeline trigger
(``POST /api/v4/projects/:id/trigger/pipeline`` with the trigger token, ref and
variables) and the lookups around it (``GET /api/v4/projects/:id``,
``.../pipelines``, ``.../pipelines/:pid``). Each accepted trigger is recorded (never the
token) and then runs the model-deploy job itself: ``deploy-$DEPLOY_ENV`` (staging when
unset) is read from ``.gitlab/ci/model-deploy.yml`` after includes, ``!reference`` and
``extends`` (:mod:`.ci_yaml`), and its ``before_script`` and ``script`` lines run in bash
with ``set -eo pipefail`` as a GitLab runner runs them, against the local cloud, one job
at a time (the real jobs share a ``resource_group`` per account). So the CI file and the
local path cannot drift. Two parts of the job the local cloud provides itself and skips,
by name, never by retyping them: the ``.python`` template's lines (installing the project:
the job runs in the project's virtualenv) and the ``.aws-oidc`` template's (writing the ID
token: the job gets the local cloud's credentials through its environment). Like GitLab,
the trigger's request (token removed) is in the file named by ``TRIGGER_PAYLOAD``, so the
job's trigger-variable check sees exactly the variables the trigger set. A trigger on a
ref other than the default branch starts nothing (the deploy jobs' rules). The pipeline
status follows the job's exit code; its log (each line echoed as ``$ line``) is kept under
``<state>/gitlab/``.

The trigger token it accepts is the one stored in the data-science account's secret
(``gitlab configure`` may replace the bootstrap's), as GitLab knows its own tokens.

Tests inject faults (``faults``: a list of HTTP status codes or ``"timeout"`` answered to
the next trigger calls) to exercise the handler's retries.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import queue
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from batchops.localcloud.gitlab.ci_yaml import load_pipeline, script_lines

log = logging.getLogger(__name__)
PROJECT_ID = 1


#: The CI file whose deploy jobs the stand-in runs, relative to the repository root.
DEPLOY_CI_FILE = ".gitlab/ci/model-deploy.yml"
#: Templates whose ``before_script`` the local cloud provides itself (module docstring).
PROVIDED_BY_LOCAL_CLOUD = (".python", ".aws-oidc")
DEFAULT_BRANCH = "main"


class DeployJobError(Exception):
    """The CI file has no deploy job for the requested environment (one line)."""


@dataclass(frozen=True)
class DeployJob:
    """One deploy job of the CI file, as the stand-in runs it."""

    name: str
    environment: str
    lines: list[str]
    provided: list[str]

    def command(self) -> list[str]:
        """bash running the lines as a runner does: each echoed, the first failure stops."""
        script = ["set -eo pipefail"]
        for line in self.lines:
            script += [f"printf '%s\\n' {shlex.quote('$ ' + line)}", line]
        return ["bash", "-c", "\n".join(script)]


def deploy_job(variables: dict[str, str], root: Path) -> DeployJob:
    """The job ``deploy-$DEPLOY_ENV`` of :data:`DEPLOY_CI_FILE` under ``root``."""
    environment = variables.get("DEPLOY_ENV") or "staging"
    pipeline = load_pipeline(root / DEPLOY_CI_FILE, root)
    name = f"deploy-{environment}"
    job = pipeline.jobs.get(name)
    if job is None:
        deploy_jobs = ", ".join(sorted(j for j in pipeline.jobs if j.startswith("deploy-")))
        raise DeployJobError(
            f"{DEPLOY_CI_FILE}: no job {name} for DEPLOY_ENV={environment!r} "
            f"(deploy jobs: {deploy_jobs or 'none'})"
        )
    provided = {
        line
        for template in PROVIDED_BY_LOCAL_CLOUD
        for line in script_lines(pipeline.templates.get(template, {}), "before_script")
    }
    before = script_lines(job, "before_script")
    return DeployJob(
        name=name,
        environment=environment,
        lines=[line for line in before if line not in provided] + script_lines(job),
        provided=[line for line in before if line in provided],
    )


class GitLabStandIn:
    def __init__(
        self,
        *,
        token: str | Callable[[], str],
        project_path: str = "ml/batchops",
        state_dir: Path | None = None,
        endpoint: str | None = None,
        run_jobs: bool = True,
        repo_root: Path | None = None,
    ) -> None:
        self.token = token
        self.repo_root = repo_root
        self.project_path = project_path
        self.state_dir = Path(state_dir) if state_dir else None
        self.endpoint = endpoint
        self.run_jobs = run_jobs
        self.faults: list[int | str] = []
        self.timeout_delay = 3.0
        self.requests: list[dict[str, Any]] = []
        self._pipelines: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._jobs: queue.Queue[int | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # ----- lifecycle ---------------------------------------------------------------------
    def start(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(
            target=self._server.serve_forever, name="gitlab-standin", daemon=True
        ).start()
        threading.Thread(target=self._job_worker, name="gitlab-jobs", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._jobs.put(None)

    # ----- records -----------------------------------------------------------------------
    def triggers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in sorted(self._pipelines.values(), key=lambda p: p["id"])]

    def wait_jobs(self, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(p["status"] not in ("created", "running") for p in self._pipelines.values()):
                    return True
            time.sleep(0.1)
        return False

    def project(self) -> dict[str, Any]:
        return {
            "id": PROJECT_ID,
            "path_with_namespace": self.project_path,
            "name": self.project_path.rsplit("/", 1)[-1],
            "default_branch": "main",
            "web_url": f"{self.url}/{self.project_path}",
        }

    def matches_project(self, raw: str) -> bool:
        return unquote(raw) in (str(PROJECT_ID), self.project_path)

    def trigger(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        expected = self.token() if callable(self.token) else self.token
        if not hmac.compare_digest(str(form.get("token") or ""), expected):
            return 404, {"message": "404 Not Found"}  # GitLab's answer to a bad trigger token
        ref = str(form.get("ref") or "")
        if not ref:
            return 400, {"message": "ref is missing"}
        variables = {str(k): str(v) for k, v in (form.get("variables") or {}).items()}
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        with self._lock:
            pipeline_id = len(self._pipelines) + 1
            record = {
                "id": pipeline_id,
                "iid": pipeline_id,
                "project_id": PROJECT_ID,
                "ref": ref,
                "sha": "0" * 40,
                "source": "trigger",
                "status": "created",
                "created_at": now,
                "updated_at": now,
                "web_url": f"{self.url}/{self.project_path}/-/pipelines/{pipeline_id}",
                "variables": variables,
                "job": {"command": None, "exit_code": None, "log": None},
            }
            self._pipelines[pipeline_id] = record
        if self.run_jobs and ref == DEFAULT_BRANCH:
            self._jobs.put(pipeline_id)
        else:
            self._set(pipeline_id, status="skipped")
        public = {k: v for k, v in record.items() if k not in ("variables", "job")}
        return 201, public

    def pipeline(self, pipeline_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._pipelines.get(pipeline_id)
            return {k: v for k, v in found.items() if k != "job"} if found else None

    def _set(self, pipeline_id: int, **changes: Any) -> None:
        with self._lock:
            record = self._pipelines[pipeline_id]
            record.update(changes)
            record["updated_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")

    # ----- the deploy job ----------------------------------------------------------------
    def _job_worker(self) -> None:
        while True:
            pipeline_id = self._jobs.get()
            if pipeline_id is None:
                return
            try:
                self._run_job(pipeline_id)
            except Exception as exc:  # a broken job must not stop the next one
                log.exception("GitLab stand-in: job of pipeline %s crashed", pipeline_id)
                self._set(pipeline_id, status="failed", failure_reason=str(exc))

    def _root(self) -> Path:
        if self.repo_root is None:
            from batchops.config import find_config_dir

            self.repo_root = find_config_dir().parent
        return self.repo_root

    def _run_job(self, pipeline_id: int) -> None:
        with self._lock:
            ref = self._pipelines[pipeline_id]["ref"]
            variables = dict(self._pipelines[pipeline_id]["variables"])
        root = self._root()
        job = deploy_job(variables, root)
        command = job.command()
        gitlab_dir = (
            self.state_dir / "gitlab"
            if self.state_dir
            else Path(tempfile.mkdtemp(prefix="batchops-gitlab-"))
        )
        gitlab_dir.mkdir(parents=True, exist_ok=True)
        payload = gitlab_dir / f"pipeline-{pipeline_id}-trigger-payload.json"
        payload.write_text(json.dumps({"ref": ref, "variables": variables}), encoding="utf-8")
        venv_bin = str(Path(sys.executable).parent)
        environ = {
            **os.environ,
            **variables,
            "PATH": venv_bin + os.pathsep + os.environ.get("PATH", ""),
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_ID": str(pipeline_id),
            "CI_PIPELINE_SOURCE": "trigger",
            "PARENT_PIPELINE_SOURCE": "trigger",
            "CI_COMMIT_REF_NAME": ref,
            "CI_COMMIT_BRANCH": ref,
            "CI_DEFAULT_BRANCH": DEFAULT_BRANCH,
            "CI_JOB_NAME": job.name,
            "CI_ENVIRONMENT_NAME": job.environment,
            "CI_PROJECT_DIR": str(root),
            "CI_PROJECT_PATH": self.project_path,
            "TRIGGER_PAYLOAD": str(payload),
        }
        if self.endpoint:
            environ["BATCHOPS_ENDPOINT"] = self.endpoint
        log_path = gitlab_dir / f"pipeline-{pipeline_id}.log"
        self._set(
            pipeline_id,
            status="running",
            job={"name": job.name, "command": job.lines, "exit_code": None, "log": str(log_path)},
        )
        completed = subprocess.run(
            command,
            cwd=root,
            env=environ,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
        )
        skipped = "".join(f"# provided by the local cloud: {line}\n" for line in job.provided)
        log_path.write_text(
            f"{job.name} ({DEPLOY_CI_FILE})\n{skipped}{completed.stdout}{completed.stderr}",
            encoding="utf-8",
        )
        status = "success" if completed.returncode == 0 else "failed"
        self._set(
            pipeline_id,
            status=status,
            job={
                "name": job.name,
                "command": job.lines,
                "exit_code": completed.returncode,
                "log": str(log_path),
                "output_tail": (completed.stdout + completed.stderr)[-2000:],
            },
        )


def _handler_for(standin: GitLabStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gitlab-standin"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("gitlab stand-in: " + format, *args)

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _parts(self) -> list[str]:
            path = urlparse(self.path).path
            return [p for p in path.removeprefix("/api/v4/").split("/") if p]

        def do_GET(self) -> None:
            parts = self._parts()
            if len(parts) >= 2 and parts[0] == "projects" and standin.matches_project(parts[1]):
                if len(parts) == 2:
                    return self._send(200, standin.project())
                if parts[2:3] == ["pipelines"] and len(parts) == 3:
                    return self._send(200, [standin.pipeline(p["id"]) for p in standin.triggers()])
                if parts[2:3] == ["pipelines"] and len(parts) == 4 and parts[3].isdigit():
                    found = standin.pipeline(int(parts[3]))
                    return self._send(200 if found else 404, found or {"message": "404 Not Found"})
            return self._send(404, {"message": "404 Not Found"})

        def do_POST(self) -> None:
            parts = self._parts()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if not (
                len(parts) == 4
                and parts[0] == "projects"
                and parts[2:] == ["trigger", "pipeline"]
                and standin.matches_project(parts[1])
            ):
                return self._send(404, {"message": "404 Not Found"})
            with standin._lock:
                fault = standin.faults.pop(0) if standin.faults else None
                standin.requests.append({"path": self.path, "fault": fault})
            if fault == "timeout":
                time.sleep(standin.timeout_delay)
                return self._send(504, {"message": "timeout"})
            if isinstance(fault, int):
                return self._send(fault, {"message": f"{fault} injected fault"})
            status, body = standin.trigger(_form(raw, self.headers.get("Content-Type", "")))
            return self._send(status, body)

    return Handler


def _form(raw: bytes, content_type: str) -> dict[str, Any]:
    """JSON (python-gitlab) or form-encoded (curl) trigger bodies."""
    if "json" in content_type:
        try:
            data = json.loads(raw or b"{}")
            return data if isinstance(data, dict) else {}
        except json.JSONDecodeError:
            return {}
    form: dict[str, Any] = {"variables": {}}
    for key, values in parse_qs(raw.decode("utf-8", "replace")).items():
        if key.startswith("variables[") and key.endswith("]"):
            form["variables"][key[10:-1]] = values[-1]
        else:
            form[key] = values[-1]
    return form
