"""Resource-policy checks for requests that cross accounts.

The local cloud's one evaluator of resource policies (model package group policies, bucket
policies, event bus policies) for a caller from another account: an Allow statement must
name the caller's account (or ``*``), the action and the resource; an unconditional Deny
that matches wins.
"""

from __future__ import annotations

import json
import re
from typing import Any


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str | dict) else list(value)


def _wildcard(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, re.I if ignore_case else 0) is not None


def _names_account(statement: dict[str, Any], account_id: str) -> bool:
    principal = statement.get("Principal") or {}
    principals = _as_list(principal.get("AWS") if isinstance(principal, dict) else principal)
    return any(p in ("*", account_id) or f":{account_id}:" in str(p) for p in principals)


def policy_allows(
    policy: str | None, account_id: str, action: str, resource: str | None = None
) -> bool:
    """Whether ``policy`` lets ``account_id`` do ``action`` on ``resource`` (None: any)."""
    if not policy:
        return False
    try:
        statements = _as_list(json.loads(policy).get("Statement", []))
    except (json.JSONDecodeError, AttributeError):
        return False
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _names_account(statement, account_id):
            continue
        if not any(
            _wildcard(a, action, ignore_case=True) for a in _as_list(statement.get("Action"))
        ):
            continue
        resources = _as_list(statement.get("Resource", "*"))
        if resource is not None and not any(_wildcard(r, resource) for r in resources):
            continue
        if statement.get("Effect") == "Deny" and not statement.get("Condition"):
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed
