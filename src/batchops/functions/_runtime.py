"""What every handler shares: its environment, its AWS clients, JSON logs, error kinds.

Handlers run in two places: AWS Lambda (configuration in ``os.environ``, credentials from
the function's role) and the local cloud's event router, which runs them in-process in a
worker thread. The router cannot touch ``os.environ`` (handlers of different functions and
accounts run at the same time), so it sets :data:`ENVIRONMENT` for the current context
instead; :func:`env` reads that overlay when present, else the process environment.

Nothing here has side effects at import; the zips carry this module, so it imports only
the standard library and boto3 (both in the Lambda runtime).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from typing import Any, TypeVar

from batchops.errors import BatchopsError

#: Environment of the function being invoked by the local router (None on AWS Lambda).
ENVIRONMENT: ContextVar[Mapping[str, str] | None] = ContextVar("batchops_fn_env", default=None)

T = TypeVar("T")
_clients: dict[tuple[str, ...], Any] = {}
_clients_lock = threading.Lock()


class HandlerError(BatchopsError):
    """A handler could not do its job; raising it makes EventBridge/Lambda redeliver.

    ``retryable = False`` tells the local router (and a reader of the logs) that a retry
    cannot help (malformed event, wrong configuration); the event goes to the dead letters.
    """

    retryable = True


class PermanentError(HandlerError):
    retryable = False


class ConfigurationError(PermanentError):
    """The function's environment variables are missing or invalid."""


class MalformedEventError(PermanentError):
    """The event lacks the fields the handler needs."""


def env() -> Mapping[str, str]:
    overlay = ENVIRONMENT.get()
    return overlay if overlay is not None else os.environ


def require(name: str) -> str:
    value = env().get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set (function configuration)")
    return value


def int_setting(name: str, default: int) -> int:
    raw = env().get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(
            f"environment variable {name}: expected an integer, got {raw!r}"
        ) from None


def logger(name: str) -> logging.Logger:
    log = logging.getLogger(name)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return log


def log_json(log: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """One JSON object per line (CloudWatch Logs Insights parses it); never pass secrets."""
    record = {"level": logging.getLevelName(level), "message": message, **fields}
    log.log(level, json.dumps(record, default=str, sort_keys=True))


def client(service: str) -> Any:
    """A boto3 client for the invoking function's account, cached like a warm Lambda."""
    from botocore.config import Config

    from batchops.boto_sessions import session as new_session

    variables = env()
    region = variables.get("AWS_REGION") or variables.get("AWS_DEFAULT_REGION") or "us-east-1"
    endpoint = variables.get("AWS_ENDPOINT_URL") or None
    key_id = variables.get("AWS_ACCESS_KEY_ID") or None
    key = (service, region, endpoint or "", key_id or "")
    with _clients_lock:
        cached = _clients.get(key)
    if cached is not None:
        return cached
    # one parse of the service models per process (a warm Lambda keeps it), a session per
    # credentials
    session = new_session(
        aws_access_key_id=key_id,
        aws_secret_access_key=variables.get("AWS_SECRET_ACCESS_KEY") or None,
        aws_session_token=variables.get("AWS_SESSION_TOKEN") or None,
        region_name=region,
    )
    made = session.client(
        service,
        endpoint_url=endpoint,
        config=Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5),
    )
    with _clients_lock:
        return _clients.setdefault(key, made)


def retry(
    action: Callable[[], T],
    *,
    transient: Callable[[BaseException], bool],
    attempts: int,
    base_delay: float,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Run ``action``; on a transient error wait ``base_delay * 2**n`` and try again."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts or not transient(exc):
                raise
            delay = base_delay * 2 ** (attempt - 1)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def aws_error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def detail_field(event: Mapping[str, Any], *path: str) -> Any:
    """``event['detail'][path...]`` or :class:`MalformedEventError` naming what is missing."""
    node: Any = event.get("detail")
    where = "detail"
    if not isinstance(node, Mapping):
        raise MalformedEventError(f"event {event.get('id', '?')}: no 'detail' object")
    for part in path:
        where += f".{part}"
        if not isinstance(node, Mapping) or node.get(part) in (None, ""):
            raise MalformedEventError(
                f"event {event.get('id', '?')} ({event.get('detail-type', '?')}): "
                f"missing field {where}"
            )
        node = node[part]
    return node
