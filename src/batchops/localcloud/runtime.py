"""Start and stop a complete local cloud (server, executor, bootstrap) in this process."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.server import LocalCloud


def default_state_dir() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return Path(".batchops") / "local" / f"{stamp}-{os.getpid()}"


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
        from batchops.localcloud.events_wiring import attach_events

        gitlab_url = attach_events(cloud)
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
