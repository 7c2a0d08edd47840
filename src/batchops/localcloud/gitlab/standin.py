"""A GitLab stand-in on 127.0.0.1: the API calls batchops makes, and the jobs of the CI file.

It answers what python-gitlab sends for a pipeline trigger
(``POST /api/v4/projects/:id/trigger/pipeline`` with the trigger token, ref and variables)
and the read API the approval Lambda uses to find out whether an earlier, unanswered
trigger created a pipeline (``GET .../pipelines`` with ``source``/``ref``/``updated_after``,
``.../pipelines/:pid``, ``.../pipelines/:pid/variables``, ``.../pipelines/:pid/jobs``; these
need an API token in ``PRIVATE-TOKEN``, as on GitLab).

What a trigger may do is what the project's settings allow (:mod:`.trigger_policy`): the
trigger token is required, only the documented pipeline variables are accepted — anything
else (``PYTHONPATH``…) is refused with GitLab's answer and logged by name only — and what
runs is derived from the repository's CI files (:mod:`.ci_jobs`): ``workflow:rules``, the
routing to child pipelines, each job's ``rules``, ``before_script`` and ``script`` (less the
lines the local cloud provides itself: installing the project, the ID token). Jobs run one
pipeline at a time (the real deploy jobs share a ``resource_group``), as a shell with the
job's variables; like GitLab, the trigger's request (token removed) is in the file named by
``TRIGGER_PAYLOAD``, so the jobs' trigger-variable check sees exactly what the trigger set;
logs are kept under ``<state>/gitlab/``.

Pipelines are kept in ``<state>/gitlab/pipelines.json`` (atomic writes): a restarted local
cloud lists them again, and a job that was running when it died is marked failed.

Faults for tests (:mod:`.faults`): status codes or ``"timeout"`` for the next triggers
(``faults``), failing every trigger for a while (``fail_for``), creating the pipeline but
answering late (``answer_late``).
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from batchops.fs import atomic_write_json
from batchops.localcloud.gitlab.ci_jobs import (
    PipelineFiltered,
    Plan,
    PlannedJob,
    expand,
    plan_trigger,
)
from batchops.localcloud.gitlab.faults import Faults
from batchops.localcloud.gitlab.id_tokens import IdTokenIssuer
from batchops.localcloud.gitlab.trigger_policy import refused_variables

log = logging.getLogger(__name__)
PROJECT_ID = 1
TokenSource = str | Callable[[], str]


#: The CI file whose deploy jobs the local GitLab runs, relative to the repository root.
DEPLOY_CI_FILE = ".gitlab/ci/model-deploy.yml"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(source: TokenSource | None) -> str:
    if source is None:
        return ""
    return source() if callable(source) else source


class GitLabStandIn:
    def __init__(
        self,
        *,
        token: TokenSource,
        api_token: TokenSource | None = None,
        project_path: str = "ml/batchops",
        state_dir: Path | None = None,
        endpoint: str | None = None,
        run_jobs: bool = True,
        repo_root: Path | None = None,
        issuer: str | None = None,
        project_variables: dict[str, str] | None = None,
        protected_refs: tuple[str, ...] = ("main",),
        protected_environments: tuple[str, ...] = ("staging", "production"),
    ) -> None:
        self.token = token
        self.api_token = api_token
        self.project_path = project_path
        self.state_dir = Path(state_dir) if state_dir else None
        self.endpoint = endpoint
        self.run_jobs = run_jobs
        self.repo_root = repo_root
        #: the GitLab this stands in for (``settings.gitlab_url``): its ID tokens' ``iss``,
        #: and ``$CI_SERVER_URL`` in an ``id_tokens: aud`` (jobs reach the stand-in itself)
        self.issuer = (issuer or "").rstrip("/")
        self._id_tokens: IdTokenIssuer | None = None
        self._id_tokens_lock = threading.Lock()
        #: CI/CD variables of the project (the role ARNs ``batchops gitlab configure`` sets)
        self.project_variables = dict(project_variables or {})
        self.protected_refs = protected_refs
        self.protected_environments = protected_environments
        self.faults = Faults()
        self.requests: list[dict[str, Any]] = []
        self._pipelines: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._jobs: queue.Queue[int | None] = queue.Queue()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""
        self._load()

    # ----- lifecycle ---------------------------------------------------------------------
    @property
    def _folder(self) -> Path | None:
        return self.state_dir / "gitlab" if self.state_dir else None

    def start(self) -> str:
        port = int(self._saved().get("port") or 0)
        try:
            self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        except OSError:  # the previous port is taken: any free one
            self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        if self._folder is not None:
            atomic_write_json(self._folder / "standin.json", {"port": self._server.server_port})
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

    def _saved(self) -> dict[str, Any]:
        if self._folder is None:
            return {}
        try:
            return dict(json.loads((self._folder / "standin.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    # ----- persistence -------------------------------------------------------------------
    def _load(self) -> None:
        """Pipelines of a previous run; a job it left running was interrupted: failed."""
        if self._folder is None:
            return
        path = self._folder / "pipelines.json"
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.error("GitLab stand-in: %s is unreadable (%s); starting empty", path, exc)
            return
        for record in saved:
            if record.get("status") in ("created", "pending", "running"):
                record["status"] = "failed"
                record["failure_reason"] = "the local cloud stopped while the pipeline ran"
                for job in record.get("jobs", []):
                    if job.get("status") in ("created", "pending", "running"):
                        job["status"] = "failed"
                        job["failure_reason"] = "runner_system_failure"
            self._pipelines[int(record["id"])] = record

    def _save(self) -> None:
        """Write every pipeline (caller holds the lock)."""
        if self._folder is not None:
            atomic_write_json(
                self._folder / "pipelines.json",
                [self._pipelines[k] for k in sorted(self._pipelines)],
            )

    # ----- records -----------------------------------------------------------------------
    def triggers(self) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(json.dumps(self._pipelines[k])) for k in sorted(self._pipelines)]

    def wait_jobs(self, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = [
                    p for p in self._pipelines.values() if p["status"] in ("created", "running")
                ]
            if not busy:
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

    def authorized(self, headers: Any) -> bool:
        """The read API needs an API token (``PRIVATE-TOKEN`` or ``Authorization: Bearer``)."""
        expected = _value(self.api_token)
        given = headers.get("PRIVATE-TOKEN") or ""
        bearer = headers.get("Authorization") or ""
        if bearer.startswith("Bearer "):
            given = given or bearer[7:]
        return bool(expected) and hmac.compare_digest(given, expected)

    # ----- the trigger API -----------------------------------------------------------------
    def trigger(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not hmac.compare_digest(str(form.get("token") or ""), _value(self.token)):
            return 404, {"message": "404 Not Found"}  # GitLab's answer to a bad trigger token
        ref = str(form.get("ref") or "")
        if not ref:
            return 400, {"error": "ref is missing"}
        variables = {str(k): str(v) for k, v in (form.get("variables") or {}).items()}
        refused = refused_variables(variables)
        if refused:
            log.warning(
                "GitLab stand-in: trigger refused, variables not allowed: %s", ", ".join(refused)
            )
            return 400, {
                "message": {"base": ["Insufficient permissions to set pipeline variables"]}
            }
        with self._lock:
            pipeline_id = max(self._pipelines, default=0) + 1
        predefined = self._predefined(pipeline_id, ref)
        try:
            plan = plan_trigger(self._repo(), {**predefined, **variables})
        except PipelineFiltered as exc:
            return 400, {"message": {"base": [str(exc)]}}
        return 201, self._create(pipeline_id, ref, variables, plan)

    def _repo(self) -> Path:
        if self.repo_root is not None:
            return self.repo_root
        from batchops.config import find_config_dir

        return find_config_dir().parent

    @property
    def issuer_url(self) -> str:
        """Its ID tokens' ``iss`` (the stand-in's own URL when it stands for no named GitLab)."""
        return self.issuer or self.url

    @property
    def id_tokens(self) -> IdTokenIssuer:
        """The signing key, made at first use (a job's token, STS asking for the keys)."""
        with self._id_tokens_lock:  # one key: a job's token and STS's check must agree
            if self._id_tokens is None:
                self._id_tokens = IdTokenIssuer(self.issuer_url)
            return self._id_tokens

    def jwks(self) -> dict[str, Any]:
        """The keys its tokens are signed with (what ``/oauth/discovery/keys`` serves)."""
        return self.id_tokens.jwks()

    def job_claims(
        self, pipeline_id: int, job_id: int, job: PlannedJob, ref: str, audience: str
    ) -> dict[str, Any]:
        """The claims GitLab puts in a job's ID token (``sub`` as the project configures it:
        :data:`batchops.oidc_trust.SUB_CLAIM_COMPONENTS`, what ``batchops gitlab configure``
        sets)."""
        from batchops.oidc_trust import CiJob, job_claims

        environment = job.environment or None
        claims: dict[str, Any] = job_claims(
            self.issuer_url,
            self.project_path,
            CiJob(
                ref=ref,
                ref_type="branch",
                environment=environment,
                environment_protected=bool(environment)
                and environment in self.protected_environments,
                deployment_tier=job.deployment_tier or None,
            ),
            audience=audience,
        )
        claims.update(
            {
                "namespace_path": self.project_path.rsplit("/", 1)[0],
                "project_id": str(PROJECT_ID),
                "user_login": "batchops-trigger",
                "pipeline_id": str(pipeline_id),
                "pipeline_source": "trigger",
                "job_id": str(job_id),
                "ref_path": f"refs/heads/{ref}",
                "ref_protected": "true" if ref in self.protected_refs else "false",
            }
        )
        return claims

    def _predefined(self, pipeline_id: int, ref: str) -> dict[str, str]:
        return {
            **self.project_variables,
            "CI": "true",
            "GITLAB_CI": "true",
            "CI_PIPELINE_SOURCE": "trigger",
            "CI_PIPELINE_ID": str(pipeline_id),
            "CI_COMMIT_BRANCH": ref,
            "CI_COMMIT_REF_NAME": ref,
            "CI_DEFAULT_BRANCH": "main",
            "CI_PROJECT_ID": str(PROJECT_ID),
            "CI_PROJECT_PATH": self.project_path,
            "CI_SERVER_URL": self.url,
        }

    def _create(
        self, pipeline_id: int, ref: str, variables: dict[str, str], plan: Plan
    ) -> dict[str, Any]:
        now = _now()
        jobs = [
            {
                "id": pipeline_id * 100 + index,
                "name": job.name,
                "stage": job.stage,
                "status": "manual" if job.when == "manual" else "created",
                "script": list(job.script),
            }
            for index, job in enumerate(plan.jobs, start=1)
        ]
        record = {
            "id": pipeline_id,
            "iid": pipeline_id,
            "project_id": PROJECT_ID,
            "name": plan.name,
            "ref": ref,
            "sha": "0" * 40,
            "source": "trigger",
            "status": "created",
            "created_at": now,
            "updated_at": now,
            "web_url": f"{self.url}/{self.project_path}/-/pipelines/{pipeline_id}",
            "variables": variables,
            "jobs": jobs,
            "job": {"command": None, "exit_code": None, "log": None},
        }
        with self._lock:
            self._pipelines[pipeline_id] = record
            self._save()
        if self.run_jobs:
            self._jobs.put(pipeline_id)
        else:
            self._set(pipeline_id, status="skipped")
        return self.public(record)

    @staticmethod
    def public(record: dict[str, Any]) -> dict[str, Any]:
        """A pipeline as GitLab's API shows it."""
        return {k: v for k, v in record.items() if k not in ("variables", "job", "jobs")}

    def pipeline(self, pipeline_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._pipelines.get(pipeline_id)
            return self.public(found) if found else None

    def variables_of(self, pipeline_id: int) -> list[dict[str, str]] | None:
        with self._lock:
            found = self._pipelines.get(pipeline_id)
            if found is None:
                return None
            return [
                {"key": k, "variable_type": "env_var", "value": v}
                for k, v in found["variables"].items()
            ]

    def jobs_of(self, pipeline_id: int) -> list[dict[str, Any]] | None:
        with self._lock:
            found = self._pipelines.get(pipeline_id)
            return None if found is None else [dict(j) for j in found.get("jobs", [])]

    def list_pipelines(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """``GET /projects/:id/pipelines`` with GitLab's filters, newest first by default."""

        def first(name: str) -> str | None:
            values = query.get(name)
            return values[0] if values else None

        with self._lock:
            found = [self.public(p) for p in self._pipelines.values()]
        for name in ("source", "ref", "status", "name"):
            wanted = first(name)
            if wanted is not None:
                found = [p for p in found if str(p.get(name)) == wanted]
        after, before = first("updated_after"), first("updated_before")
        if after:
            found = [p for p in found if _moment(p["updated_at"]) > _moment(after)]
        if before:
            found = [p for p in found if _moment(p["updated_at"]) < _moment(before)]
        order = first("order_by") or "id"
        found.sort(key=lambda p: p.get(order) or 0, reverse=(first("sort") or "desc") == "desc")
        per_page = min(max(int(first("per_page") or 20), 1), 100)
        page = max(int(first("page") or 1), 1)
        return found[(page - 1) * per_page : page * per_page]

    def _set(self, pipeline_id: int, **changes: Any) -> None:
        with self._lock:
            record = self._pipelines[pipeline_id]
            record.update(changes)
            record["updated_at"] = _now()
            self._save()

    def _set_job(self, pipeline_id: int, job_id: int, **changes: Any) -> None:
        with self._lock:
            record = self._pipelines[pipeline_id]
            for job in record.get("jobs", []):
                if job["id"] == job_id:
                    job.update(changes)
            record["updated_at"] = _now()
            self._save()

    # ----- running the jobs ----------------------------------------------------------------
    def _job_worker(self) -> None:
        while True:
            pipeline_id = self._jobs.get()
            if pipeline_id is None:
                return
            try:
                self._run_pipeline(pipeline_id)
            except Exception as exc:  # a broken job must not stop the next one
                log.exception("GitLab stand-in: pipeline %s crashed", pipeline_id)
                self._set(pipeline_id, status="failed", failure_reason=str(exc))

    def _run_pipeline(self, pipeline_id: int) -> None:
        with self._lock:
            record = json.loads(json.dumps(self._pipelines[pipeline_id]))
        variables = record["variables"]
        plan = plan_trigger(
            self._repo(), {**self._predefined(pipeline_id, record["ref"]), **variables}
        )
        self._set(pipeline_id, status="running")
        status = "success"
        for job, planned in zip(record["jobs"], plan.jobs, strict=False):
            if planned.when == "manual":
                continue
            if status != "success":
                self._set_job(pipeline_id, job["id"], status="skipped")
                continue
            code = self._run_job(pipeline_id, job["id"], planned, {**plan.variables, **variables})
            if code != 0:
                status = "failed"
        manual = any(j.when == "manual" for j in plan.jobs)
        self._set(pipeline_id, status="manual" if status == "success" and manual else status)

    def _run_job(
        self, pipeline_id: int, job_id: int, job: PlannedJob, variables: dict[str, str]
    ) -> int:
        bin_dir = str(Path(sys.executable).parent)
        environ = {
            **os.environ,
            **job.variables,
            **variables,
            "CI_JOB_ID": str(job_id),
            "CI_JOB_NAME": job.name,
            "CI_JOB_STAGE": job.stage,
            "CI_ENVIRONMENT_NAME": job.environment,
            "CI_PROJECT_DIR": str(self._repo()),
            "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        }
        if self.endpoint:
            environ["BATCHOPS_ENDPOINT"] = self.endpoint
        # GitLab gives a trigger's jobs its request (token removed) in TRIGGER_PAYLOAD
        folder = self._folder or Path(tempfile.mkdtemp(prefix="batchops-gitlab-"))
        folder.mkdir(parents=True, exist_ok=True)
        payload = folder / f"pipeline-{pipeline_id}-trigger-payload.json"
        with self._lock:
            record = self._pipelines[pipeline_id]
            request = {"ref": record["ref"], "variables": dict(record["variables"])}
        payload.write_text(json.dumps(request), encoding="utf-8")
        environ["TRIGGER_PAYLOAD"] = str(payload)
        # the job's id_tokens, signed (GitLab mints them before the job starts); then what the
        # .aws-oidc before_script does, which the stand-in skips: the token in a file that
        # boto3 and batchops read (here under the stand-in's folder, one per job)
        token_file: Path | None = None
        minted: list[str] = []
        for name, audience in job.id_tokens.items():
            aud = expand(audience, {**environ, "CI_SERVER_URL": self.issuer_url})
            claims = self.job_claims(pipeline_id, job_id, job, request["ref"], aud)
            environ[name] = self.id_tokens.mint(claims)
            minted.append(f"ID token {name}: aud {claims['aud']}, sub {claims['sub']}")
        if environ.get("AWS_ID_TOKEN") and environ.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
            token_file = folder / f"pipeline-{pipeline_id}-job-{job_id}.token"
            token_file.write_text(environ["AWS_ID_TOKEN"], encoding="utf-8")
            token_file.chmod(0o600)
            environ["AWS_WEB_IDENTITY_TOKEN_FILE"] = str(token_file)
        script = "set -eo pipefail\n" + "\n".join(job.script) + "\n"
        command = ["bash", "-c", script]
        log_path = self._folder / f"pipeline-{pipeline_id}-{job.name}.log" if self._folder else None
        self._set_job(pipeline_id, job_id, status="running", started_at=_now())
        self._set(
            pipeline_id,
            job={
                "name": job.name,
                "command": list(job.script),
                "exit_code": None,
                "log": str(log_path or ""),
            },
        )
        completed = subprocess.run(
            command,
            env=environ,
            cwd=self._repo(),
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=1800,
            check=False,
        )
        if token_file is not None:
            token_file.unlink(missing_ok=True)  # the .aws-oidc after_script
        output = completed.stdout + completed.stderr
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            log_path.write_text(
                "".join(f"# GitLab minted {line}\n" for line in minted)
                + "".join(f"# provided by the local cloud: {line}\n" for line in job.provided)
                + "".join(f"$ {line}\n" for line in job.script)
                + output,
                encoding="utf-8",
            )
        status = "success" if completed.returncode == 0 else "failed"
        self._set_job(
            pipeline_id, job_id, status=status, finished_at=_now(), exit_code=completed.returncode
        )
        self._set(
            pipeline_id,
            job={
                "name": job.name,
                "command": list(job.script),
                "exit_code": completed.returncode,
                "log": str(log_path or ""),
                "output_tail": output[-2000:],
            },
        )
        return completed.returncode


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _handler_for(standin: GitLabStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "gitlab-standin"

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("gitlab stand-in: " + format, *args)

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a late answer): GitLab's work is done

        def _parts(self) -> list[str]:
            path = urlparse(self.path).path
            return [p for p in path.removeprefix("/api/v4/").split("/") if p]

        def do_GET(self) -> None:
            parts = self._parts()
            # GitLab's OpenID Connect documents: public, what STS reads to verify a token
            if parts == [".well-known", "openid-configuration"]:
                return self._send(200, standin.id_tokens.discovery())
            if parts == ["oauth", "discovery", "keys"]:
                return self._send(200, standin.jwks())
            if not (len(parts) >= 2 and parts[0] == "projects"):
                return self._send(404, {"message": "404 Not Found"})
            if not standin.authorized(self.headers):
                return self._send(401, {"message": "401 Unauthorized"})
            if not standin.matches_project(parts[1]):
                return self._send(404, {"message": "404 Project Not Found"})
            rest = parts[2:]
            if not rest:
                return self._send(200, standin.project())
            if rest == ["pipelines"]:
                query = parse_qs(urlparse(self.path).query)
                return self._send(200, standin.list_pipelines(query))
            if rest[0] == "pipelines" and len(rest) >= 2 and rest[1].isdigit():
                pipeline_id = int(rest[1])
                answer: Any = None
                if len(rest) == 2:
                    answer = standin.pipeline(pipeline_id)
                elif rest[2:] == ["variables"]:
                    answer = standin.variables_of(pipeline_id)
                elif rest[2:] == ["jobs"]:
                    answer = standin.jobs_of(pipeline_id)
                if answer is not None:
                    return self._send(200, answer)
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
            fault = standin.faults.take()
            with standin._lock:
                standin.requests.append({"path": self.path, "fault": fault, "at": _now()})
            if fault is not None and fault.before:
                time.sleep(fault.delay)
                return self._send(fault.status, {"message": fault.message})
            status, body = standin.trigger(_form(raw, self.headers.get("Content-Type", "")))
            if fault is not None:  # created, answered late (after the client's timeout)
                time.sleep(fault.delay)
                if fault.status:
                    return self._send(fault.status, {"message": fault.message})
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
