"""Start and stop a complete local cloud in this process: server, event side, bootstrap.

The event side is the SNS outbox, the event router and the GitLab stand-in; it is attached
right after the server starts and before the bootstrap, which needs the stand-in's URL for
the approval Lambda. It serves ``/_batchops/notifications``, ``/_batchops/gitlab-triggers``,
``/_batchops/dead-letters`` and ``/_batchops/router``, and stops with the cloud.

Options (``LocalCloud.options``): ``gitlab_run_jobs`` (default true: a trigger runs the
deploy job), ``router_attempts`` (3) and ``router_base_delay`` (0.2 s).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.aws.context import serving
from batchops.localcloud.aws.events.router import EventRouter
from batchops.localcloud.aws.sns.outbox import Outbox
from batchops.localcloud.bootstrap.resources import LOCAL_TRIGGER_TOKEN
from batchops.localcloud.gitlab.standin import GitLabStandIn
from batchops.localcloud.server import LocalCloud


def default_state_dir() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(".batchops") / "local" / f"{stamp}-{os.getpid()}"


def current_trigger_token(default: str) -> str:
    """The trigger token in the data-science secret (GitLab knows its own tokens)."""
    from moto.secretsmanager.models import secretsmanager_backends

    from batchops.config import load_settings

    settings = load_settings("data-science")
    backend = secretsmanager_backends[settings.account_id][settings.region]
    try:
        value = backend.get_secret_value(settings.gitlab_trigger_secret_name, None, None)  # type: ignore[arg-type]
    except Exception:  # no secret (yet): the bootstrap's token
        return default
    return str(value.get("SecretString") or default)


def attach_event_side(cloud: LocalCloud) -> str:
    """Attach outbox, router and GitLab stand-in to ``cloud``; returns the stand-in's URL."""
    options = cloud.options
    cloud.outbox = Outbox(cloud.state_dir)
    router = cloud.router = EventRouter(
        endpoint=cloud.endpoint,
        state_dir=cloud.state_dir,
        max_attempts=int(options.get("router_attempts", 3)),
        base_delay=float(options.get("router_base_delay", 0.2)),
        context=lambda: serving(cloud),
    )
    cloud.bus.subscribe(router)
    gitlab = cloud.gitlab = GitLabStandIn(
        token=lambda: current_trigger_token(LOCAL_TRIGGER_TOKEN),
        state_dir=cloud.state_dir,
        endpoint=cloud.endpoint,
        run_jobs=bool(options.get("gitlab_run_jobs", True)),
    )
    url = gitlab.start()
    cloud.add_internal("notifications", cloud.outbox.read)
    cloud.add_internal("gitlab-triggers", gitlab.triggers)
    cloud.add_internal("dead-letters", router.dead_letters)
    cloud.add_internal("router", router.status)
    cloud.on_stop(gitlab.stop)
    cloud.on_stop(router.stop)
    return url


def start_local_cloud(
    *,
    port: int = 0,
    state_dir: Path | None = None,
    bootstrap: bool = True,
    options: dict[str, Any] | None = None,
) -> LocalCloud:
    """A started local cloud; the caller must :meth:`LocalCloud.stop` it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.setdefault("MOTO_S3_CUSTOM_ENDPOINTS", "")
    cloud = LocalCloud(state_dir=state_dir or default_state_dir(), port=port, options=options)
    cloud.start()
    try:
        gitlab_url = attach_event_side(cloud)
        if bootstrap:
            from batchops.localcloud.bootstrap import bootstrap as run_bootstrap

            run_bootstrap(cloud.endpoint, gitlab_url=gitlab_url)
    except BaseException:
        cloud.stop()
        raise
    return cloud


@contextmanager
def local_cloud(**kwargs: Any) -> Iterator[LocalCloud]:
    cloud = start_local_cloud(**kwargs)
    try:
        yield cloud
    finally:
        cloud.stop()
