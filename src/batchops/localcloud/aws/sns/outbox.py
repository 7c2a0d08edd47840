"""The SNS outbox: every message published to a topic of the local cloud, as an e-mail would be.

On AWS an SNS topic with e-mail subscriptions sends mail; offline there is nowhere to send
it, so the local cloud records each publish (who would have received it, subject, body)
in ``<state>/notifications.jsonl`` and serves the list at ``/_batchops/notifications``
(``batchops notifications list``). Whoever publishes — the notify Lambda, the retrain
Lambda, an EventBridge rule with an SNS target, a user with the AWS CLI — lands here.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class Outbox:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "notifications.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._messages: list[dict[str, Any]] = []

    def record(self, message: dict[str, Any]) -> None:
        line = json.dumps(message, default=str, sort_keys=True)
        with self._lock:
            self._messages.append(message)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")

    def read(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._messages)


def install() -> None:
    """Record every ``Topic.publish`` of moto's SNS into the current local cloud's outbox."""
    from moto.sns.models import Topic

    from batchops.localcloud.aws.context import current_cloud_or_none

    original = Topic.publish

    def publish(
        self: Any, message: str, subject: str | None = None, *args: Any, **kwargs: Any
    ) -> str:
        message_id: str = original(self, message, subject, *args, **kwargs)
        cloud = current_cloud_or_none()
        outbox = cloud.outbox if cloud is not None else None
        if outbox is not None:
            subscriptions, _ = self.sns_backend.list_subscriptions_by_topic(topic_arn=self.arn)
            outbox.record(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "account": self.account_id,
                    "topic_arn": self.arn,
                    "message_id": message_id,
                    "subject": subject or "",
                    "message": message,
                    "recipients": sorted(
                        s.endpoint for s in subscriptions if s.protocol == "email"
                    ),
                }
            )
        return message_id

    Topic.publish = publish  # type: ignore[method-assign]
