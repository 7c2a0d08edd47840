"""The local EventBridge: deliver every event the local cloud emits to the deployed targets.

It reads what was *deployed* — the rules and targets in the events API of each account,
put there by the bootstrap or by Terraform — never the pattern files directly, so a rule
Terraform forgot is a rule that does not fire, as on AWS. Matching uses moto's own
``EventPattern`` (the rule objects carry it).

Delivery is asynchronous (the bus hands an event over and returns) and ordered per
source: one worker lane per (account, source), so a model package's state changes or an
execution's step changes reach their targets in the order they happened, while a slow
target of one source does not hold up the others. Targets:

* Lambda: the function's handler runs in-process with the function's environment (plus
  credentials of its role, region and the local endpoint), like a Lambda invocation;
* SNS: publish to the topic (captured by the outbox); SQS: send to the queue;
* SageMaker pipeline: start it with ``SageMakerPipelineParameters`` (``$.path`` values
  are resolved from the event, as EventBridge's dynamic path parameters are);
* event bus: forward to that bus (another account's, if its bus policy allows it).

A failed delivery is retried with exponential backoff, up to the target's
``RetryPolicy`` and the router's limit; then it is recorded as a dead letter
(``<state>/dead-letters.jsonl``, ``/_batchops/dead-letters``) — never dropped silently.
Errors a handler marks ``retryable = False`` go there at once.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.aws.events.targets.credentials import RoleSessions
from batchops.localcloud.aws.events.targets.errors import PermanentDeliveryError
from batchops.localcloud.aws.events.targets.lambda_function import invoke_function
from batchops.localcloud.aws.events.targets.payload import as_message, target_payload
from batchops.localcloud.aws.events.targets.queues_and_topics import (
    publish_to_topic,
    send_to_queue,
)
from batchops.localcloud.aws.events.targets.sagemaker_pipeline import start_pipeline
from batchops.localcloud.aws.iam.policies import policy_allows

log = logging.getLogger(__name__)
_STOP = object()
MAX_HOPS = 4


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


class _Lane:
    def __init__(
        self,
        name: str,
        work: Callable[[Any], None],
        lock: threading.Lock,
        context: Callable[[], AbstractContextManager[Any]],
    ) -> None:
        self._lock = lock
        self._context = context
        self.queue: queue.Queue[Any] = queue.Queue()
        self.pending = 0
        self._work = work
        self.thread = threading.Thread(target=self._run, name=f"router-{name}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _STOP:
                return
            try:
                with self._context():
                    self._work(item)
            except Exception:  # the router must outlive any bug in one delivery
                log.exception("event router: unexpected error")
            finally:
                with self._lock:
                    self.pending -= 1


class EventRouter:
    def __init__(
        self,
        *,
        endpoint: str,
        state_dir: Path,
        max_attempts: int = 3,
        base_delay: float = 0.2,
        context: Callable[[], AbstractContextManager[Any]] = nullcontext,
    ) -> None:
        """``context`` is entered around every delivery (the local cloud's request context)."""
        self.endpoint = endpoint
        self._context = context
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.dead_letter_path = Path(state_dir) / "dead-letters.jsonl"
        self.stats: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=2000)
        self._dead: list[dict[str, Any]] = []
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()
        self._sessions = RoleSessions(endpoint)
        self._stopped = False

    # ----- intake ------------------------------------------------------------------------
    def __call__(self, event: dict[str, Any]) -> None:
        """EventBus subscriber: AWS services send to their own account's default bus."""
        self.submit(event, str(event.get("account", "")), "default")

    def submit(self, event: dict[str, Any], account: str, bus: str, hops: int = 0) -> None:
        key = (account, str(event.get("source", "")))
        with self._lock:
            if self._stopped:
                return
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(
                    f"{account}-{key[1]}", self._route, self._lock, self._context
                )
            lane.pending += 1
        lane.queue.put((event, account, bus, hops))

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every queued event has been delivered or dead-lettered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = any(lane.pending for lane in self._lanes.values())
            if not busy:
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            lanes = list(self._lanes.values())
        for lane in lanes:
            lane.queue.put(_STOP)
        for lane in lanes:
            lane.thread.join(timeout=5)

    # ----- matching ----------------------------------------------------------------------
    @staticmethod
    def rules_for(account: str, region: str, bus: str) -> list[Any]:
        from moto.events.models import events_backends

        backend = events_backends[account][region]
        target_bus = backend.event_buses.get(bus)
        if target_bus is None:
            return []
        for _ in range(3):
            try:
                return [
                    rule
                    for rule in list(target_bus.rules.values())
                    if rule.state == "ENABLED" and rule.event_pattern.dump()
                ]
            except RuntimeError:  # a rule was added while we listed them
                continue
        return []

    def _route(self, item: tuple[dict[str, Any], str, str, int]) -> None:
        event, account, bus, hops = item
        region = str(event.get("region") or "us-east-1")
        self.stats["events"] += 1
        flat = _flatten(event)
        for rule in self.rules_for(account, region, bus):
            if not _matches(rule.event_pattern, event, flat):
                continue
            self.stats["matched"] += 1
            for target in list(rule.targets):
                self._deliver(
                    event, account, region=region, rule=rule.name, target=target, hops=hops
                )

    # ----- delivery ----------------------------------------------------------------------
    def _deliver(
        self,
        event: dict[str, Any],
        account: str,
        *,
        region: str,
        rule: str,
        target: dict[str, Any],
        hops: int,
    ) -> None:
        retry_policy = target.get("RetryPolicy") or {}
        attempts = self.max_attempts
        if "MaximumRetryAttempts" in retry_policy:
            attempts = min(attempts, int(retry_policy["MaximumRetryAttempts"]) + 1)
        started = time.monotonic()
        for attempt in range(1, max(attempts, 1) + 1):
            try:
                result = self._invoke(event, target, account, hops)
            except Exception as exc:
                retryable = getattr(exc, "retryable", True)
                log.warning(
                    "rule %s -> %s: attempt %d/%d failed: %s",
                    rule,
                    target["Arn"],
                    attempt,
                    attempts,
                    one_line(exc),
                )
                if attempt < attempts and retryable:
                    time.sleep(self.base_delay * 2 ** (attempt - 1))
                    continue
                self._dead_letter(
                    event, account, rule=rule, target=target, attempts=attempt, exc=exc
                )
                return
            self.stats["delivered"] += 1
            self.recent.append(
                {
                    "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "event_id": event.get("id"),
                    "detail_type": event.get("detail-type"),
                    "account": account,
                    "rule": rule,
                    "target": target["Arn"],
                    "attempts": attempt,
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "result": result,
                }
            )
            return

    def _dead_letter(
        self,
        event: dict[str, Any],
        account: str,
        *,
        rule: str,
        target: dict[str, Any],
        attempts: int,
        exc: BaseException,
    ) -> None:
        record = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "account": account,
            "rule": rule,
            "target_id": target.get("Id"),
            "target_arn": target["Arn"],
            "attempts": attempts,
            "error": one_line(exc),
            "error_type": type(exc).__name__,
            "event": event,
        }
        self.stats["dead_letters"] += 1
        with self._lock:
            self._dead.append(record)
            with self.dead_letter_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, default=str, sort_keys=True) + "\n")
        log.error(
            "rule %s -> %s: dead letter after %d attempt(s): %s",
            rule,
            target["Arn"],
            attempts,
            one_line(exc),
        )
        queue_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
        if queue_arn:
            try:
                send_to_queue(queue_arn, json.dumps(record, default=str))
            except Exception as dlq_error:
                log.error("dead-letter queue %s unreachable: %s", queue_arn, one_line(dlq_error))

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._dead)

    def status(self) -> dict[str, Any]:
        return {"stats": dict(self.stats), "recent": list(self.recent)[-200:]}

    def _invoke(
        self, event: dict[str, Any], target: dict[str, Any], rule_account: str, hops: int
    ) -> Any:
        arn = str(target["Arn"])
        parts = arn.split(":")
        if len(parts) < 6:
            raise PermanentDeliveryError(f"target ARN {arn!r} is not an ARN")
        service, region, account = parts[2], parts[3], parts[4]
        payload = target_payload(event, target)
        if service == "lambda":
            return invoke_function(
                payload, account=account, region=region, name=parts[6], sessions=self._sessions
            )
        if service == "sns":
            return publish_to_topic(arn, as_message(payload))
        if service == "sqs":
            return send_to_queue(arn, as_message(payload))
        if service == "sagemaker" and ":pipeline/" in arn:
            return start_pipeline(
                event, target, account=account, region=region, arn=arn, sessions=self._sessions
            )
        if service == "events" and ":event-bus/" in arn:
            return self._forward(
                event,
                source_account=rule_account,
                target_account=account,
                region=region,
                bus_name=arn.split(":event-bus/", 1)[1],
                hops=hops,
            )
        raise PermanentDeliveryError(
            f"target {arn}: the local cloud does not deliver to {service} targets"
        )

    # ----- cross-account forwarding -------------------------------------------------
    def _forward(
        self,
        event: dict[str, Any],
        *,
        source_account: str,
        target_account: str,
        region: str,
        bus_name: str,
        hops: int,
    ) -> Any:
        from moto.events.models import events_backends

        if hops >= MAX_HOPS:
            raise PermanentDeliveryError(f"event {event.get('id')} forwarded {hops} times; loop?")
        bus = events_backends[target_account][region].event_buses.get(bus_name)
        if bus is None:
            raise PermanentDeliveryError(f"event bus {bus_name} does not exist in {target_account}")
        bus_arn = f"arn:aws:events:{region}:{target_account}:event-bus/{bus_name}"
        if target_account != source_account and not policy_allows(
            bus.policy, source_account, "events:PutEvents", bus_arn
        ):
            raise PermanentDeliveryError(
                f"event bus {bus_name} in {target_account} has no policy allowing "
                f"events:PutEvents from {source_account}"
            )
        self.submit(event, target_account, bus_name, hops + 1)
        return {"forwarded_to": f"{target_account}/{bus_name}"}


def _flatten(event: dict[str, Any]) -> dict[str, Any] | None:
    """The event flattened once for all rules, as moto's matcher flattens it per rule."""
    from moto.events.models import EventPattern

    flatten = getattr(EventPattern, "_flatten_dict", None)
    return flatten(json.loads(json.dumps(event, default=str))) if flatten else None


def _matches(pattern: Any, event: dict[str, Any], flat: dict[str, Any] | None) -> bool:
    match = getattr(pattern, "_does_event_match", None)
    if flat is None or match is None:  # another moto version: its public (slower) entry
        return bool(pattern.matches_event(event))
    return bool(match(flat, pattern.get_pattern()))
