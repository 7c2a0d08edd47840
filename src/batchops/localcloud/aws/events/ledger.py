"""The router's record of events accepted but not yet delivered — so a restart loses none.

EventBridge keeps an event it accepted until every matching target has it or it is
dead-lettered (for up to 24 hours of retries), whatever happens to the machines behind it.
The local router holds its queues and scheduled retries in memory, so without this record
a clean stop or a ``kill -9`` of the local cloud lost every event still waiting for a retry:
an approval waiting out a GitLab outage never reached GitLab, and nothing said so.

``<state>/router/ledger.jsonl`` is appended to (one line, one ``write`` call, flushed
before the event is handed to a worker; a torn last line from a crash is ignored):

* ``accept``: the event, the account and bus it was put on, its hop count;
* ``retry``: a delivery to one target failed and waits for its retry (stage, attempts, and
  when its stage started, in wall-clock time, so the event keeps ageing while the cloud is
  down, as on AWS);
* ``done``: one target has it (delivered, or dead-lettered);
* ``settled``: every matching target is done.

A restarted local cloud routes every accepted, unsettled event again (:meth:`pending`),
skipping the targets already done and resuming each waiting retry where it stood — its next
attempt goes out at once. A target that got the event but whose ``done`` line the crash cut
off gets it again: at least once, as EventBridge promises; our handlers are idempotent.
The file is compacted to the unsettled events on start and every :data:`COMPACT_AFTER`
settlements.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops.fs import atomic_write_text, json_default

log = logging.getLogger(__name__)

#: settled events before the ledger is rewritten with only the unsettled ones
COMPACT_AFTER = 500


def target_key(rule_arn: str, target: dict[str, Any]) -> str:
    """One target of one rule (a rule's target ids are unique within the rule)."""
    return f"{rule_arn}|{target.get('Id') or target.get('Arn')}"


@dataclass
class PendingEvent:
    """An accepted event some targets of which may not have it yet."""

    key: str
    event: dict[str, Any]
    account: str
    bus: str
    hops: int
    done: set[str] = field(default_factory=set)
    #: target key -> {"stage", "attempts", "stage_started_at"[, "due_at"]} of its waiting retry
    retries: dict[str, dict[str, Any]] = field(default_factory=dict)


class DeliveryLedger:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "ledger.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._open: dict[str, PendingEvent] = {}
        self._settled_since_compaction = 0
        self.written = 0

    # ----- on start ------------------------------------------------------------------
    def pending(self) -> list[PendingEvent]:
        """The events a previous run accepted and did not settle, oldest first; compacts."""
        found: dict[str, PendingEvent] = {}
        for entry in self._entries():
            key = str(entry.get("key", ""))
            op = entry.get("op")
            if op == "accept":
                found[key] = PendingEvent(
                    key,
                    entry["event"],
                    str(entry["account"]),
                    str(entry["bus"]),
                    int(entry.get("hops", 0)),
                )
            elif key in found and op == "done":
                found[key].done.add(str(entry["target"]))
                found[key].retries.pop(str(entry["target"]), None)
            elif key in found and op == "retry":
                found[key].retries[str(entry["target"])] = {
                    "stage": entry["stage"],
                    "attempts": int(entry["attempts"]),
                    "stage_started_at": float(entry["stage_started_at"]),
                    **({"due_at": float(entry["due_at"])} if "due_at" in entry else {}),
                }
            elif op == "settled":
                found.pop(key, None)
        with self._lock:
            self._open = dict(found)
            self._rewrite()
        return list(found.values())

    def _entries(self) -> list[dict[str, Any]]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except ValueError:
                log.warning("event router ledger %s:%d: unreadable line ignored", self.path, number)
        return entries

    # ----- while serving -------------------------------------------------------------
    def accept(self, event: dict[str, Any], account: str, bus: str, hops: int) -> str:
        key = uuid.uuid4().hex
        with self._lock:
            self._open[key] = PendingEvent(key, event, account, bus, hops)
            self._append(
                {
                    "op": "accept",
                    "key": key,
                    "event": event,
                    "account": account,
                    "bus": bus,
                    "hops": hops,
                }
            )
        return key

    def adopt(self, pending: PendingEvent) -> None:
        """Track an event :meth:`pending` returned (it is in the ledger already)."""
        with self._lock:
            self._open[pending.key] = pending

    def retry(
        self,
        key: str,
        target: str,
        *,
        stage: str,
        attempts: int,
        started_at: float,
        due_at: float | None = None,
    ) -> None:
        """A retry of ``target`` is waiting; ``due_at`` (epoch seconds) is when it goes out,
        so that a restarted local cloud waits what is left of the back-off, as AWS would."""
        state: dict[str, Any] = {
            "stage": stage,
            "attempts": attempts,
            "stage_started_at": started_at,
        }
        if due_at is not None:
            state["due_at"] = due_at
        with self._lock:
            if key not in self._open:
                return
            self._open[key].retries[target] = state
            self._append({"op": "retry", "key": key, "target": target, **state})

    def done(self, key: str, target: str) -> None:
        with self._lock:
            if key in self._open:
                self._open[key].done.add(target)
                self._open[key].retries.pop(target, None)
                self._append({"op": "done", "key": key, "target": target})

    def settled(self, key: str) -> None:
        with self._lock:
            if self._open.pop(key, None) is None:
                return
            self._append({"op": "settled", "key": key})
            self._settled_since_compaction += 1
            if self._settled_since_compaction >= COMPACT_AFTER:
                self._rewrite()

    def unsettled(self) -> int:
        with self._lock:
            return len(self._open)

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, default=json_default, sort_keys=True) + "\n"
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)
        self.written += 1

    def _rewrite(self) -> None:
        """The ledger with only the open events (their accept, done and retry lines)."""
        lines = []
        for item in self._open.values():
            lines.append(
                {
                    "op": "accept",
                    "key": item.key,
                    "event": item.event,
                    "account": item.account,
                    "bus": item.bus,
                    "hops": item.hops,
                }
            )
            lines += [{"op": "done", "key": item.key, "target": t} for t in sorted(item.done)]
            lines += [
                {"op": "retry", "key": item.key, "target": t, **state}
                for t, state in item.retries.items()
            ]
        text = "".join(json.dumps(x, default=json_default, sort_keys=True) + "\n" for x in lines)
        atomic_write_text(self.path, text)
        self._settled_since_compaction = 0
