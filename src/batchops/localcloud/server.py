"""The local cloud server: moto's WSGI application with batchops' additions, on loopback.

One process serves every account (moto keys its backends by account; a client selects
its account with ``sts:AssumeRole``, exactly as CI does on AWS). Besides the AWS APIs it
serves a few read-only documents under ``/_batchops/`` (health, the event log, the
records the report is built from) — nothing a product code path depends on.

State survives restarts (:mod:`batchops.localcloud.persistence`): every request that may
change a service is followed by a snapshot of that service before the answer goes out, and
a local cloud started on a state folder that holds snapshots serves them again. One local
cloud per state folder (a lock the kernel drops when the process dies).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchops.errors import CloudError
from batchops.fs import json_default
from batchops.localcloud.aws.context import serving
from batchops.localcloud.aws.events.bus import EventBus
from batchops.localcloud.aws.logs.job_logs import JobLogsToCloudWatch
from batchops.localcloud.aws.sagemaker.pipeline_events import PipelineStatusEvents
from batchops.localcloud.executor.runner import Executor
from batchops.localcloud.executor.store import ExecutionStore
from batchops.localcloud.persistence import (
    MotoState,
    StateFolderLock,
    is_mutating,
    request_action,
    signing_service,
    touched_accounts,
)

if TYPE_CHECKING:
    from batchops.localcloud.aws.events.router import EventRouter
    from batchops.localcloud.aws.sns.outbox import Outbox
    from batchops.localcloud.gitlab.standin import GitLabStandIn

log = logging.getLogger(__name__)

INTERNAL_PREFIX = "/_batchops/"


def port_in_use(host: str, port: int) -> bool:
    """True when something listens on ``host:port`` or it cannot be bound.

    The bind probe sets ``SO_REUSEADDR`` like the server does: a port left in TIME_WAIT by
    a local cloud that crashed is free to bind again at once.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def persistence_enabled(options: dict[str, Any]) -> bool:
    """``options["persist"]``, else ``BATCHOPS_LOCAL_PERSIST`` (default on; 0 turns it off)."""
    if "persist" in options:
        return bool(options["persist"])
    return os.environ.get("BATCHOPS_LOCAL_PERSIST", "1").lower() not in ("0", "false", "no")


class LocalCloud:
    """Start with :meth:`start`; stop with :meth:`stop` (idempotent).

    One running local cloud per process: moto's backends are process-wide, so a second one
    would serve the first one's accounts (its bootstrap would point the first one's Lambda
    functions at its own GitLab stand-in, a restored state folder would overwrite the first
    one's registry). :meth:`start` refuses it with a :class:`CloudError`.
    """

    _running_lock = threading.Lock()
    _running: LocalCloud | None = None

    def __init__(
        self,
        *,
        state_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.host = host
        self.port = port
        self.options = dict(options or {})
        self.folder_lock = StateFolderLock(self.state_dir)
        #: moto's state on disk (None with ``options["persist"] = False``)
        self.state: MotoState | None = (
            MotoState(self.state_dir) if persistence_enabled(self.options) else None
        )
        #: what the start found of a previous run of this state folder
        self.restored: dict[str, Any] = {}
        # large job inputs (the data-quality step's wheels) staged once, then copied
        self.options.setdefault("input_cache_dir", str(self.state_dir / "input-cache"))
        self.bus = EventBus(self.state_dir)
        #: the event side, attached by :func:`batchops.localcloud.runtime.start_local_cloud`
        self.router: EventRouter | None = None
        self.outbox: Outbox | None = None
        self.gitlab: GitLabStandIn | None = None
        #: OpenID Connect issuers STS can reach: issuer URL -> its JWKS (``keys``)
        self.identity_providers: dict[str, Callable[[], dict[str, Any]]] = {}
        self.store = ExecutionStore(self.state_dir)
        #: True while the journal is replayed on start (no events, no notifications)
        self.replaying = False
        self.endpoint = ""
        self.executor: Executor
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._internal: dict[str, Callable[[], Any]] = {
            "health": lambda: {
                "status": "ok",
                "endpoint": self.endpoint,
                "state_dir": str(self.state_dir),
                "restored": self.restored,
            },
            "persistence": self._persistence_stats,
            "events": self.bus.read,
            "executions": lambda: [r.to_json() for r in self.store.all()],
        }
        self._stopped = threading.Event()
        self._on_stop: list[Callable[[], None]] = []

    def router_sessions(self) -> Any:
        """Role credentials the event side acts with (Lambda targets, ``Invoke``)."""
        if self.router is None:
            from batchops.localcloud.aws.events.targets.credentials import RoleSessions

            return RoleSessions(self.endpoint)
        return self.router.sessions

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the cloud stops (before the executor and the server)."""
        self._on_stop.append(callback)

    def _persistence_stats(self) -> dict[str, Any]:
        if self.state is None:
            return {"enabled": False}
        return {
            "enabled": True,
            "snapshots": self.state.writes,
            "seconds": round(self.state.seconds, 4),
            "bytes": self.state.bytes_written,
        }

    def add_internal(self, name: str, provider: Callable[[], Any]) -> None:
        """Serve ``provider()`` as JSON at ``/_batchops/<name>``."""
        self._internal[name] = provider

    def _wsgi(self, moto_app: Any) -> Callable[..., Iterable[bytes]]:
        def application(
            environ: dict[str, Any], start_response: Callable[..., Any]
        ) -> Iterable[bytes]:
            # moto's bodies are in memory already: materialise them while the request's
            # local cloud is current (the handlers and backends look it up)
            with serving(self):
                return list(serve(environ, start_response))

        def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            if path.startswith(INTERNAL_PREFIX):
                name = path[len(INTERNAL_PREFIX) :].strip("/")
                provider = self._internal.get(name)
                if provider is None:
                    start_response("404 Not Found", [("Content-Type", "application/json")])
                    return [b'{"error": "not found"}']
                body = json.dumps(provider(), default=json_default).encode()
                start_response(
                    "200 OK",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            if self.state is None or not is_mutating(environ):
                return moto_app(environ, start_response)
            return self._persisted(moto_app, environ, start_response)

        return application

    def _persisted(
        self, moto_app: Any, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        """Serve a mutating request; the answer leaves only once the change is on disk."""
        from batchops.localcloud.journal import journaled, request_body

        assert self.state is not None
        service = signing_service(environ)
        accounts = touched_accounts(service, environ)
        status: list[str] = []

        def recording(code: str, headers: Any, *rest: Any) -> Any:
            status.append(code)
            return start_response(code, headers, *rest)

        with self.state.lock_for(service):
            if service is not None and journaled(service, environ, request_action(environ)):
                body = request_body(environ)
                answer = list(moto_app(environ, recording))
                if status and status[0].startswith("2"):
                    self.state.journal.append(service, accounts or (), environ, body)
                    if self.state.journal.due(service):
                        self.state.save(service)
                        self.state.journal.compacted(
                            service,
                            lambda s: self.state.watermarks.get(s, {}) if self.state else {},
                        )
                return answer
            answer = list(moto_app(environ, recording))
            self.state.save(service, accounts)
            if service == "sts":  # assumed-role keys live in the role account's IAM
                self.state.save("iam", accounts)
        return answer

    def start(self) -> str:
        with LocalCloud._running_lock:
            running = LocalCloud._running
            if running is not None and running is not self:
                raise CloudError(
                    f"a local cloud is already running in this process ({running.endpoint}, "
                    f"state {running.state_dir}); moto's backends are process-wide, so a "
                    "second one would serve its accounts: stop it first"
                )
            LocalCloud._running = self
        self.folder_lock.acquire()
        try:
            return self._start()
        except BaseException:
            self.folder_lock.release()
            self._release_process()
            raise

    def _release_process(self) -> None:
        with LocalCloud._running_lock:
            if LocalCloud._running is self:
                LocalCloud._running = None

    def _start(self) -> str:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from batchops.localcloud import aws

        previous = self.folder_lock.holder()
        reuse = int(previous.get("port") or 0) if self.state is not None else 0
        if not self.port and reuse and not port_in_use(self.host, reuse):
            self.port = reuse  # a restart on the same state folder keeps its endpoint
        if self.port and port_in_use(self.host, self.port):
            raise CloudError(
                f"port {self.port} on {self.host} is in use by another program; pick another "
                "with --port or omit it to use a free one"
            )
        moto_app = DomainDispatcherApplication(create_backend_app)
        aws.install()
        if self.state is not None:
            self._restore(moto_app)
        try:
            self._server = make_server(
                self.host,
                self.port,
                self._wsgi(moto_app),
                threaded=True,
                request_handler=MotoRequestHandler,
            )
        except OSError as exc:
            raise CloudError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        self.port = self._server.server_port
        self.endpoint = f"http://{self.host}:{self.port}"
        self.executor = Executor(
            self.store,
            endpoint=self.endpoint,
            hooks=[
                PipelineStatusEvents(self.bus.emit),
                JobLogsToCloudWatch(
                    lambda record: self.executor.clients(
                        record.account_id, record.region, record.role_arn
                    ).client("logs")
                ),
            ],
            options={"wheel_cache_dir": str(self.state_dir / "wheel-cache"), **self.options},
        )
        self.folder_lock.announce(endpoint=self.endpoint, port=self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="localcloud-http", daemon=True
        )
        self._thread.start()
        return self.endpoint

    def _restore(self, moto_app: Any) -> None:
        """Load a previous run's moto state and execution records (before serving)."""
        assert self.state is not None
        started = time.monotonic()
        services = self.state.restore()
        self.replaying = True  # a replayed request emits no event, records no notification
        try:
            with serving(self):
                journal = self.state.replay_journal(moto_app)
        finally:
            self.replaying = False
        executions = self.store.load()
        if services or executions:
            self.restored = {
                "services": services,
                "executions": executions,
                "journal": journal,
                "seconds": round(time.monotonic() - started, 3),
            }
            log.info(
                "local cloud: restored %s and %d execution record(s) from %s",
                ", ".join(services) or "no AWS state",
                executions,
                self.state_dir,
            )

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        for callback in reversed(self._on_stop):
            callback()
        if hasattr(self, "executor"):
            self.executor.shutdown()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.state is not None and self._server is not None:
            with self.state.lock_for(None):
                self.state.save(None)  # what direct backend calls changed, too
        self.folder_lock.release()
        self._release_process()
