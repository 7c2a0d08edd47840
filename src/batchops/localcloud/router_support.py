"""Pieces of the local router that do not need its state: Lambda context, paths, policies."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LambdaContext:
    """The parts of AWS's context object our handlers (and most others) use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    timeout_s: int = 60
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def json_path(event: Any, path: str) -> Any:
    """``$.detail.bucket.name`` -> the value (None when absent)."""
    node = event
    for part in path.removeprefix("$").strip(".").split("."):
        if not part:
            continue
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def bus_allows(policy: str | None, account: str) -> bool:
    if not policy:
        return False
    for statement in json.loads(policy).get("Statement", []):
        principal = statement.get("Principal")
        principals = principal.get("AWS", []) if isinstance(principal, dict) else principal
        principals = [principals] if isinstance(principals, str) else list(principals or [])
        allowed = any(p in ("*", account) or f":{account}:" in str(p) for p in principals)
        if statement.get("Effect") == "Allow" and allowed:
            return True
    return False


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]
