"""Which local cloud a request belongs to, without module-level state.

moto's request handlers and backends are process-wide classes, so the behaviour the local
cloud adds to them is installed once per process (:func:`batchops.localcloud.aws.install`).
What varies per local cloud — its execution store, executor, event bus, outbox — reaches
those handlers through a context variable that the server sets for the duration of each
request (and that the local cloud's own threads set around direct backend calls), the way
a web framework's request context works. Two local clouds in one process therefore never
see each other's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from batchops.localcloud.aws.events.bus import EventBus
    from batchops.localcloud.aws.sns.outbox import Outbox
    from batchops.localcloud.executor.runner import Executor
    from batchops.localcloud.executor.store import ExecutionStore


class CloudServices(Protocol):
    """What the service extensions need from a running local cloud."""

    endpoint: str
    store: ExecutionStore
    executor: Executor
    bus: EventBus
    outbox: Outbox | None


_CURRENT: ContextVar[Any] = ContextVar("batchops_local_cloud", default=None)


def current_cloud() -> CloudServices:
    """The local cloud serving the current request (raises outside of one)."""
    cloud = _CURRENT.get()
    if cloud is None:
        raise RuntimeError("no local cloud is serving this request")
    return cloud


def current_cloud_or_none() -> CloudServices | None:
    return _CURRENT.get()


@contextmanager
def serving(cloud: CloudServices) -> Iterator[None]:
    """Make ``cloud`` the current local cloud for the code inside the block."""
    token = _CURRENT.set(cloud)
    try:
        yield
    finally:
        _CURRENT.reset(token)
