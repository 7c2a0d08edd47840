"""The local cloud server: moto's WSGI application with batchops' additions, on loopback.

One process serves every account (moto keys its backends by account; a client selects
its account with ``sts:AssumeRole``, exactly as CI does on AWS). Besides the AWS APIs it
serves a few read-only documents under ``/_batchops/`` (health, the event log, the
records the report is built from) — nothing a product code path depends on.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchops.errors import CloudError
from batchops.localcloud.aws.context import serving
from batchops.localcloud.aws.events.bus import EventBus
from batchops.localcloud.aws.logs.job_logs import JobLogsToCloudWatch
from batchops.localcloud.aws.sagemaker.pipeline_events import PipelineStatusEvents
from batchops.localcloud.executor.runner import Executor
from batchops.localcloud.executor.store import ExecutionStore

if TYPE_CHECKING:
    from batchops.localcloud.aws.events.router import EventRouter
    from batchops.localcloud.aws.sns.outbox import Outbox
    from batchops.localcloud.gitlab.standin import GitLabStandIn

log = logging.getLogger(__name__)

INTERNAL_PREFIX = "/_batchops/"


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        if probe.connect_ex((host, port)) == 0:
            return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


class LocalCloud:
    """Start with :meth:`start`; stop with :meth:`stop` (idempotent)."""

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
        # large job inputs (the data-quality step's wheels) staged once, then copied
        self.options.setdefault("input_cache_dir", str(self.state_dir / "input-cache"))
        self.bus = EventBus(self.state_dir)
        #: the event side, attached by :func:`batchops.localcloud.runtime.start_local_cloud`
        self.router: EventRouter | None = None
        self.outbox: Outbox | None = None
        self.gitlab: GitLabStandIn | None = None
        self.store = ExecutionStore(self.state_dir)
        self.endpoint = ""
        self.executor: Executor
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._internal: dict[str, Callable[[], Any]] = {
            "health": lambda: {"status": "ok", "endpoint": self.endpoint},
            "events": self.bus.read,
            "executions": lambda: [r.to_json() for r in self.store.all()],
        }
        self._stopped = threading.Event()
        self._on_stop: list[Callable[[], None]] = []

    def on_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the cloud stops (before the executor and the server)."""
        self._on_stop.append(callback)

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
                body = json.dumps(provider(), default=str).encode()
                start_response(
                    "200 OK",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            return moto_app(environ, start_response)

        return application

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        from batchops.localcloud import aws

        if self.port and port_in_use(self.host, self.port):
            raise CloudError(
                f"port {self.port} on {self.host} is busy (another local cloud?); pick another "
                "with --port or omit it to use a free one"
            )
        try:
            self._server = make_server(
                self.host,
                self.port,
                self._wsgi(DomainDispatcherApplication(create_backend_app)),
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
            options=self.options,
        )
        aws.install()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="localcloud-http", daemon=True
        )
        self._thread.start()
        return self.endpoint

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
