"""Attach the event side of the local cloud: SNS outbox, event router, GitLab stand-in.

Called by :func:`batchops.localcloud.runtime.start_local_cloud` right after the server
starts (before the bootstrap, which needs the stand-in's URL for the approval Lambda).
Serves ``/_batchops/notifications``, ``/_batchops/gitlab-triggers``,
``/_batchops/dead-letters`` and ``/_batchops/router``, and stops the router and the
stand-in with the cloud.

Options (``LocalCloud.options``): ``gitlab_run_jobs`` (default true: a trigger runs the
deploy job), ``router_attempts`` (3) and ``router_base_delay`` (0.2 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from batchops.localcloud import outbox as outbox_module
from batchops.localcloud.gitlab_standin import GitLabStandIn
from batchops.localcloud.router import EventRouter

if TYPE_CHECKING:
    from batchops.localcloud.server import LocalCloud


def current_trigger_token(default: str) -> str:
    """The trigger token in the data-science secret (what the approval Lambda sends)."""
    from moto.secretsmanager.models import secretsmanager_backends

    from batchops.config import load_settings

    settings = load_settings("data-science")
    backend = secretsmanager_backends[settings.account_id][settings.region]
    try:
        value = backend.get_secret_value(settings.gitlab_trigger_secret_name, None, None)  # type: ignore[arg-type]
    except Exception:  # no secret (yet): the bootstrap's token
        return default
    return str(value.get("SecretString") or default)


def attach_events(cloud: LocalCloud) -> str:
    """Wire the event side into ``cloud``; returns the GitLab stand-in's URL."""
    from batchops.localcloud.bootstrap import LOCAL_TRIGGER_TOKEN

    options = cloud.options
    outbox = outbox_module.Outbox(cloud.state_dir)
    outbox_module.install(outbox)
    router = EventRouter(
        endpoint=cloud.endpoint,
        state_dir=cloud.state_dir,
        max_attempts=int(options.get("router_attempts", 3)),
        base_delay=float(options.get("router_base_delay", 0.2)),
    )
    cloud.bus.subscribe(router)
    gitlab = GitLabStandIn(
        token=lambda: current_trigger_token(LOCAL_TRIGGER_TOKEN),
        state_dir=cloud.state_dir,
        endpoint=cloud.endpoint,
        run_jobs=bool(options.get("gitlab_run_jobs", True)),
    )
    url = gitlab.start()
    cloud.add_internal("notifications", outbox.read)
    cloud.add_internal("gitlab-triggers", gitlab.triggers)
    cloud.add_internal("dead-letters", router.dead_letters)
    cloud.add_internal("router", router.status)
    cloud.router = router  # type: ignore[attr-defined]
    cloud.gitlab = gitlab  # type: ignore[attr-defined]
    cloud.outbox = outbox  # type: ignore[attr-defined]
    stop_cloud = cloud.stop

    def stop() -> None:
        router.stop()
        gitlab.stop()
        stop_cloud()

    cloud.stop = stop  # type: ignore[method-assign]
    return url
