"""What a target receives: the event, or its ``Input``, ``InputPath`` or ``InputTransformer``."""

from __future__ import annotations

import json
from typing import Any


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


def target_payload(event: dict[str, Any], target: dict[str, Any]) -> Any:
    """The payload EventBridge sends to ``target`` for ``event``."""
    if target.get("Input"):
        return json.loads(target["Input"])
    if target.get("InputPath"):
        return json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
    return event


def as_message(payload: Any) -> str:
    """A payload as the message body SNS and SQS targets get."""
    return payload if isinstance(payload, str) else json.dumps(payload, default=str)
