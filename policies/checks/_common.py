"""Helpers shared by our checkov checks (checkov imports this file too; it registers nothing).

Why: checkov hands checks the .tf configuration with every value wrapped in a list, and the
plan JSON with rendered strings; the helpers make one check read both the same way.
"""

from __future__ import annotations

import json
from typing import Any

MANDATORY_TAGS = ("Project", "Environment", "Owner", "CostCenter", "ManagedBy")


def value(conf: dict[str, Any], *path: str) -> Any:
    """The value at `path`, unwrapping checkov's one-element lists; None when absent."""
    current: Any = conf
    for key in path:
        while isinstance(current, list) and len(current) == 1:
            current = current[0]
        if not isinstance(current, dict) or key not in current:
            return None
        current = current[key]
    while isinstance(current, list) and len(current) == 1:
        current = current[0]
    return current


def blocks(conf: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Every nested block called `name` (a list of dicts in checkov's model)."""
    found = conf.get(name) or []
    found = found if isinstance(found, list) else [found]
    return [b for b in found if isinstance(b, dict)]


def is_set(raw: Any) -> bool:
    """True for a non-empty value (a reference such as ${module.kms.arn} counts as set)."""
    return raw not in (None, "", [], {}, "null")


def is_true(raw: Any) -> bool:
    return raw is True or (isinstance(raw, str) and raw.lower() == "true")


def policy_document(raw: Any) -> dict[str, Any] | None:
    """A policy as a dict when it is fully known (parsed HCL or rendered JSON), else None."""
    while isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None
    if not isinstance(raw, dict) or not isinstance(raw.get("Statement"), (list, dict)):
        return None
    return raw


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    found = document.get("Statement")
    found = found if isinstance(found, list) else [found]
    return [s for s in found if isinstance(s, dict)]


def as_list(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else [raw]


def is_reference(raw: Any) -> bool:
    """An expression checkov left unresolved in .tf (var.x, local.y, ${...}); the plan decides."""
    text = str(raw)
    return text.startswith(("${", "var.", "local.", "module.", "data.", "each."))
