"""Just enough IAM evaluation to read our resource policies the way AWS reads them.

Principals are matched as AWS does for the shapes our Terraform and the local bootstrap
write: an exact ARN, the account root (``arn:aws:iam::<id>:root`` or the bare id, which
delegates to the account's IAM), ``*``; ``ArnEquals``/``ArnLike`` on ``aws:PrincipalArn``,
``StringEquals`` on ``kms:ViaService``/``kms:CallerAccount``/``aws:SourceAccount``; any other
condition makes the statement not count (doctor errs towards FAIL, never towards ok).
"""

from __future__ import annotations

import json
import re
from typing import Any


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


def load(document: Any) -> dict[str, Any]:
    """A policy document that may arrive as JSON text or as a dict (boto3 decodes some)."""
    if isinstance(document, str):
        try:
            parsed = json.loads(document)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return document if isinstance(document, dict) else {}


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.S | re.I) is not None


def _principal_matches(principal: Any, arn: str, account_id: str) -> bool:
    if principal == "*":
        return True
    roots = {account_id, f"arn:aws:iam::{account_id}:root"}
    for value in as_list((principal or {}).get("AWS") if isinstance(principal, dict) else None):
        if value in ("*", arn) or str(value) in roots:
            return True
    return False


def _conditions_hold(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, keys in (condition or {}).items():
        for key, expected in keys.items():
            if key not in context:
                return False
            values = [str(v) for v in as_list(expected)]
            if operator in ("ArnEquals", "StringEquals"):
                ok = context[key] in values
            elif operator in ("ArnLike", "StringLike"):
                ok = any(_like(v, context[key]) for v in values)
            elif operator == "Bool":
                ok = context[key].lower() in (v.lower() for v in values)
            else:
                return False
            if not ok:
                return False
    return True


def allows(
    policy: dict[str, Any],
    *,
    principal_arn: str,
    account_id: str,
    action: str,
    via_service: str | None = None,
) -> bool:
    """Whether an Allow (and no Deny) of ``policy`` lets the principal do ``action``."""
    context = {
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": account_id,
        "kms:CallerAccount": account_id,
    }
    if via_service:
        context["kms:ViaService"] = via_service

    def matches(statement: dict[str, Any]) -> bool:
        actions = [str(a) for a in as_list(statement.get("Action"))]
        if not any(_like(a, action) for a in actions):
            return False
        if not _principal_matches(statement.get("Principal"), principal_arn, account_id):
            return False
        return _conditions_hold(statement.get("Condition") or {}, context)

    statements = [s for s in as_list(policy.get("Statement")) if isinstance(s, dict)]
    if any(s.get("Effect") == "Deny" and matches(s) for s in statements):
        return False
    return any(s.get("Effect") == "Allow" and matches(s) for s in statements)


def denies_insecure_transport(policy: dict[str, Any]) -> bool:
    """A Deny of every principal when ``aws:SecureTransport`` is false (TLS only)."""
    for statement in as_list(policy.get("Statement")):
        condition = (statement.get("Condition") or {}).get("Bool") or {}
        if (
            statement.get("Effect") == "Deny"
            and statement.get("Principal") in ("*", {"AWS": "*"})
            and str(condition.get("aws:SecureTransport", "")).lower() == "false"
        ):
            return True
    return False
