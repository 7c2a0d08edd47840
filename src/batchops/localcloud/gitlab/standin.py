"""A GitLab stand-in on 127.0.0.1: the API calls batchops makes, and the deploy job.

It answers what python-gitlab sends for a pipeline trigger
(``POST /api/v4/projects/:id/trigger/pipeline`` with the trigger token, ref and
variables) and the lookups around it (``GET /api/v4/projects/:id``,
``.../pipelines``, ``.../pipelines/:pid``). Each accepted trigger is recorded (never the
token) and then, like the real model-deploy job, runs
``batchops deploy --env $DEPLOY_ENV --model-package-arn $MODEL_PACKAGE_ARN`` as a
subprocess against the local cloud, one job at a time (the real jobs share a
``resource_group`` per account); the pipeline status follows the job's exit code and its
log is kept under ``<state>/gitlab/``.

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
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger(__name__)
PROJECT_ID = 1


def deploy_command(variables: dict[str, str]) -> list[str]:
    """The model-deploy job's script line (``.gitlab/ci/model-deploy.yml``)."""
    script = Path(sys.executable).with_name("batchops")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "batchops.cli.main"]
    return [
        *base,
        "deploy",
        "--env",
        variables.get("DEPLOY_ENV", "staging"),
        "--model-package-arn",
        variables["MODEL_PACKAGE_ARN"],
    ]


class GitLabStandIn:
    def __init__(
        self,
        *,
        token: str | Callable[[], str],
        project_path: str = "ml/batchops",
        state_dir: Path | None = None,
        endpoint: str | None = None,
        run_jobs: bool = True,
    ) -> None:
        self.token = token
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
        if self.run_jobs and "MODEL_PACKAGE_ARN" in variables:
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

    def _run_job(self, pipeline_id: int) -> None:
        with self._lock:
            variables = dict(self._pipelines[pipeline_id]["variables"])
        command = deploy_command(variables)
        environ = {
            **os.environ,
            **variables,
            "CI": "true",
            "CI_PIPELINE_ID": str(pipeline_id),
            "CI_PIPELINE_SOURCE": "trigger",
        }
        if self.endpoint:
            environ["BATCHOPS_ENDPOINT"] = self.endpoint
        log_path = (
            (self.state_dir / "gitlab" / f"pipeline-{pipeline_id}.log") if self.state_dir else None
        )
        self._set(
            pipeline_id,
            status="running",
            job={"command": command, "exit_code": None, "log": str(log_path or "")},
        )
        completed = subprocess.run(
            command,
            env=environ,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
        )
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(
                f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}", encoding="utf-8"
            )
        status = "success" if completed.returncode == 0 else "failed"
        self._set(
            pipeline_id,
            status=status,
            job={
                "command": command,
                "exit_code": completed.returncode,
                "log": str(log_path or ""),
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
