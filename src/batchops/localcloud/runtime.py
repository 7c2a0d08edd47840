"""Start and stop a complete local cloud in this process: server, event side, bootstrap.

The event side is the SNS outbox, the event router and the GitLab stand-in; it is attached
right after the server starts and before the bootstrap, which needs the stand-in's URL for
the approval Lambda. It serves ``/_batchops/notifications``, ``/_batchops/gitlab-triggers``,
``/_batchops/dead-letters`` and ``/_batchops/router``, and stops with the cloud.

Options (``LocalCloud.options``): ``gitlab_run_jobs`` (default true: a trigger runs the
jobs the CI file declares), ``retry_time_scale`` (1.0: AWS's retry delays; tests shrink
them), ``persist`` (default true, or ``BATCHOPS_LOCAL_PERSIST``), ``wheel_cache_dir`` (where
container jobs may keep the wheels they ship unpacked, by content: ``BATCHOPS_LOCAL_WHEEL_CACHE``
in their environment; default ``wheel-cache`` in the state folder), ``prewarm_containers``
(default: when the cloud is bootstrapped, i.e. meant to run pipelines) starts the warm
container zygote of each image runtime in the background while the cloud starts.

Started on a state folder a previous local cloud left (a clean stop or a crash), it serves
that state again: moto's resources, execution records, notifications, dead letters, GitLab
pipelines. Executions that were running when it died are marked ``Failed`` with the reason
and their step processes are stopped (:func:`recover_interrupted`).
Events it had accepted but not yet delivered to every target (waiting for a retry, say,
while GitLab was down) are delivered then (:meth:`EventRouter.resume`).
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
from batchops.localcloud.bootstrap.resources import LOCAL_READ_TOKEN, LOCAL_TRIGGER_TOKEN
from batchops.localcloud.gitlab.standin import GitLabStandIn
from batchops.localcloud.server import LocalCloud


def default_state_dir() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(".batchops") / "local" / f"{stamp}-{os.getpid()}"


def accounts_dir(state_dir: Path) -> Path:
    """Where the bootstrap writes each account's backend.hcl (``batchops doctor`` reads it)."""
    return state_dir / "accounts"


def current_secret(setting: str, default: str) -> str:
    """A GitLab token kept in a data-science secret (GitLab knows its own tokens)."""
    from moto.secretsmanager.models import secretsmanager_backends

    from batchops.config import load_settings

    settings = load_settings("data-science")
    backend = secretsmanager_backends[settings.account_id][settings.region]
    try:
        value = backend.get_secret_value(getattr(settings, setting), None, None)  # type: ignore[arg-type]
    except Exception:  # no secret (yet): the bootstrap's token
        return default
    return str(value.get("SecretString") or default)


def current_trigger_token(default: str) -> str:
    """The trigger token in the data-science secret."""
    return current_secret("gitlab_trigger_secret_name", default)


def recover_interrupted(cloud: LocalCloud) -> list[str]:
    """Fail the executions a previous run left running, stop their processes; returns ARNs.

    The execution's status-change event goes out (the notify rule tells people); its steps'
    do not, so an interrupted model-quality step is not mistaken for a failed check.
    """
    from batchops.localcloud.executor.processes import ProcessLedger

    moment = datetime.now(UTC).isoformat(timespec="seconds")
    recovered = []
    for record in cloud.store.interrupted():
        stopped = ProcessLedger(cloud.store.logs_dir(record) / "processes").stop_all()
        reason = (
            f"InternalServerError: the local cloud stopped while this execution ran; it was "
            f"restarted at {moment} and marked Failed"
            + (f" (stopped {len(stopped)} step process(es))" if stopped else "")
        )
        previous = cloud.store.mark_interrupted(record, reason)
        with serving(cloud):
            cloud.executor.hooks.execution_status_changed(record, previous)
        recovered.append(record.arn)
        logging.getLogger(__name__).warning("%s: %s", record.arn, reason)
    return recovered


def attach_event_side(cloud: LocalCloud) -> str:
    """Attach outbox, router and GitLab stand-in to ``cloud``; returns the stand-in's URL."""
    from batchops.config import ENVIRONMENTS, load_settings

    options = cloud.options
    cloud.outbox = Outbox(cloud.state_dir)
    router = cloud.router = EventRouter(
        endpoint=cloud.endpoint,
        state_dir=cloud.state_dir,
        retry_time_scale=float(options.get("retry_time_scale", 1.0)),
        context=lambda: serving(cloud),
        durable=cloud.state is not None,
    )
    cloud.bus.subscribe(router)
    gitlab = cloud.gitlab = GitLabStandIn(
        token=lambda: current_trigger_token(LOCAL_TRIGGER_TOKEN),
        api_token=lambda: current_secret("gitlab_read_token_secret_name", LOCAL_READ_TOKEN),
        state_dir=cloud.state_dir,
        endpoint=cloud.endpoint,
        run_jobs=bool(options.get("gitlab_run_jobs", True)),
        issuer=load_settings("data-science").gitlab_url,
        project_variables={
            f"{env.upper().replace('-', '_')}_ROLE_ARN": load_settings(env).access_role_arn
            for env in ENVIRONMENTS
        },
    )
    url = gitlab.start()
    cloud.identity_providers[gitlab.issuer_url] = gitlab.jwks
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
    if (options or {}).get("prewarm_containers", bootstrap):
        from batchops.localcloud.executor.context import prewarm_containers

        prewarm_containers(cloud.executor.options)
    try:
        gitlab_url = attach_event_side(cloud)
        if bootstrap:
            from batchops.localcloud.bootstrap import bootstrap as run_bootstrap

            run_bootstrap(
                cloud.endpoint, gitlab_url=gitlab_url, accounts_dir=accounts_dir(cloud.state_dir)
            )
        cloud.restored["interrupted_executions"] = recover_interrupted(cloud)
        assert cloud.router is not None
        resumed = cloud.router.resume()
        if resumed:
            cloud.restored["undelivered_events"] = resumed
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
