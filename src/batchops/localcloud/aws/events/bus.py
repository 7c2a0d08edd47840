"""The local cloud's event stream: every event AWS services would send to EventBridge.

Producers (the executor, the registry wrappers, S3 notifications, ``PutEvents``) call
:meth:`EventBus.emit`; the event is appended to ``<state>/events.jsonl`` (the record the
report and tests read) and handed to the subscribers (the event router), which deliver
it asynchronously, so a producer never waits for a target.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

Subscriber = Callable[[dict[str, Any]], None]


class EventBus:
    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "events.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._count = 0

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            self._subscribers.append(subscriber)

    def emit(self, event: dict[str, Any]) -> None:
        line = json.dumps(event, default=str, sort_keys=True)
        with self._lock:
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
            self._count += 1
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            subscriber(event)

    @property
    def count(self) -> int:
        return self._count

    def read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._lock:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
