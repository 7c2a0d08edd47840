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

A failed delivery is retried as AWS retries it (:mod:`.retries`): a target EventBridge
cannot reach follows the target's ``RetryPolicy`` (default 185 attempts / 24 h); a Lambda
function that raises follows Lambda's asynchronous-invocation retries (default 2 more, after
1 and 2 minutes). Retries are scheduled, never slept in a lane, so one failing target holds
up nothing else. When the retries are exhausted the event goes to the dead-letter queue AWS
would use (:mod:`.dead_letters`) and is recorded (``/_batchops/dead-letters``); errors a
retry cannot fix (a missing function or pipeline, a refused policy) go there at once.

Nothing accepted is lost when the local cloud stops or is killed: every event is written to
the router's ledger (:mod:`.ledger`) before a worker gets it, with each target's progress,
and a local cloud restarted on the same state folder delivers what was still owed
(:meth:`EventRouter.resume`).
"""

from __future__ import annotations

import functools
import json
import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.aws.events.dead_letters import DeadLetters
from batchops.localcloud.aws.events.ledger import DeliveryLedger, PendingEvent, target_key
from batchops.localcloud.aws.events.retries import RetryPolicy, RetryScheduler
from batchops.localcloud.aws.events.targets.credentials import RoleSessions
from batchops.localcloud.aws.events.targets.errors import FunctionError, PermanentDeliveryError
from batchops.localcloud.aws.events.targets.lambda_function import (
    find_function,
    invoke_function,
    on_failure_destination,
)
from batchops.localcloud.aws.events.targets.payload import as_message, target_payload
from batchops.localcloud.aws.events.targets.queues_and_topics import (
    publish_to_topic,
    send_to_queue,
)
from batchops.localcloud.aws.events.targets.sagemaker_pipeline import start_pipeline
from batchops.localcloud.aws.iam.policies import resource_policy_allows

log = logging.getLogger(__name__)
_STOP = object()
MAX_HOPS = 4


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:500]


@dataclass
class Delivery:
    """One event on its way to one target, with what happened so far."""

    event: dict[str, Any]
    account: str
    region: str
    rule: str
    rule_arn: str
    target: dict[str, Any]
    hops: int
    #: "eventbridge" until a Lambda function ran (then "lambda-async": Lambda retries)
    stage: str = "eventbridge"
    attempts: int = 0
    started: float = field(default_factory=time.monotonic)
    stage_started: float = field(default_factory=time.monotonic)
    #: the same moment in wall-clock time (the ledger keeps it across restarts)
    stage_started_at: float = field(default_factory=time.time)
    #: the event's entry in the router's ledger (None: not kept)
    key: str | None = None
    #: seconds of back-off still owed by a retry resumed after a restart
    resume_in: float = 0.0

    @property
    def target_key(self) -> str:
        return target_key(self.rule_arn, self.target)


@dataclass
class _Routed:
    """An event for one bus, as a lane takes it."""

    event: dict[str, Any]
    account: str
    bus: str
    hops: int
    key: str | None = None
    #: targets the ledger says already have it, and retries it says were waiting
    done: frozenset[str] = frozenset()
    retries: dict[str, dict[str, Any]] = field(default_factory=dict)


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
        retry_time_scale: float = 1.0,
        context: Callable[[], AbstractContextManager[Any]] = nullcontext,
        durable: bool = True,
    ) -> None:
        """``context`` is entered around every delivery (the local cloud's request context).

        ``retry_time_scale`` multiplies AWS's retry delays and event ages (tests: 0.001).
        ``durable``: keep the ledger of undelivered events under ``state_dir`` (the local
        cloud turns it off with its persistence).
        """
        self.endpoint = endpoint
        self._context = context
        self.retry_time_scale = retry_time_scale
        self.dead = DeadLetters(state_dir)
        self.stats: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=2000)
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()
        self.sessions = self._sessions = RoleSessions(endpoint)
        self._stopped = False
        self._retrying = 0
        self._retry_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="router-retry")
        self._scheduler = RetryScheduler(self._run_retry)
        self.ledger = DeliveryLedger(Path(state_dir) / "router") if durable else None
        #: ledger key -> targets of the event still owed a delivery
        self._owed: dict[str, int] = {}

    # ----- intake ------------------------------------------------------------------------
    def __call__(self, event: dict[str, Any]) -> None:
        """EventBus subscriber: AWS services send to their own account's default bus."""
        self.submit(event, str(event.get("account", "")), "default")

    def submit(self, event: dict[str, Any], account: str, bus: str, hops: int = 0) -> None:
        """Accept ``event`` on ``bus`` of ``account``: kept in the ledger, then routed.

        After :meth:`stop` an event is still accepted into the ledger (a lane finishing its
        work forwards one, a producer emits one): the next start delivers it.
        """
        key = self.ledger.accept(event, account, bus, hops) if self.ledger else None
        self._enqueue(_Routed(event, account, bus, hops, key))

    def resume(self) -> int:
        """Route again what a previous run accepted and did not deliver; returns how many."""
        if self.ledger is None:
            return 0
        owed = self.ledger.pending()
        for item in owed:
            self._enqueue(_resumed(item))
        if owed:
            log.warning(
                "event router: %d event(s) accepted before the restart are delivered now",
                len(owed),
            )
        return len(owed)

    def _enqueue(self, item: _Routed) -> None:
        lane_key = (item.account, str(item.event.get("source", "")))
        with self._lock:
            if self._stopped:
                return
            lane = self._lanes.get(lane_key)
            if lane is None:
                lane = self._lanes[lane_key] = _Lane(
                    f"{item.account}-{lane_key[1]}", self._route, self._lock, self._context
                )
            lane.pending += 1
        lane.queue.put(item)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """True once every queued event has been delivered or dead-lettered."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = any(lane.pending for lane in self._lanes.values()) or self._retrying
            if not busy and not len(self._scheduler):
                return True
            time.sleep(0.01)
        return False

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            lanes = list(self._lanes.values())
        self._scheduler.stop()
        for lane in lanes:
            lane.queue.put(_STOP)
        for lane in lanes:
            lane.thread.join(timeout=5)
        self._retry_pool.shutdown(wait=False, cancel_futures=True)

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

    def _route(self, item: _Routed) -> None:
        event, account = item.event, item.account
        region = str(event.get("region") or "us-east-1")
        self.stats["events"] += 1
        flat = _flatten(event)
        deliveries = []
        for rule in self.rules_for(account, region, item.bus):
            if not _matches(rule.event_pattern, event, flat):
                continue
            self.stats["matched"] += 1
            for target in list(rule.targets):
                delivery = Delivery(
                    event,
                    account,
                    region,
                    rule.name,
                    rule.arn,
                    dict(target),
                    item.hops,
                    key=item.key,
                )
                if delivery.target_key in item.done:
                    continue
                waiting = item.retries.get(delivery.target_key)
                if waiting:  # a retry the previous run had scheduled: what is left of its
                    # back-off is waited (at once when it was due while the cloud was down)
                    delivery.stage, delivery.attempts = waiting["stage"], waiting["attempts"]
                    delivery.stage_started_at = waiting["stage_started_at"]
                    delivery.stage_started = time.monotonic() - max(
                        0.0, time.time() - delivery.stage_started_at
                    )
                    delivery.resume_in = max(0.0, float(waiting.get("due_at", 0.0)) - time.time())
                deliveries.append(delivery)
        if item.key is not None:
            if not deliveries:
                assert self.ledger is not None
                self.ledger.settled(item.key)
            else:
                with self._lock:
                    self._owed[item.key] = len(deliveries)
        for delivery in deliveries:
            if delivery.resume_in > 0:
                resume = functools.partial(self._attempt, delivery)
                self._scheduler.later(delivery.resume_in, resume)
            else:
                self._attempt(delivery)

    def _finished(self, delivery: Delivery) -> None:
        """One target has the event (or its dead-letter queue has): the ledger says so."""
        if delivery.key is None or self.ledger is None:
            return
        self.ledger.done(delivery.key, delivery.target_key)
        with self._lock:
            left = self._owed.get(delivery.key, 1) - 1
            if left > 0:
                self._owed[delivery.key] = left
                return
            self._owed.pop(delivery.key, None)
        self.ledger.settled(delivery.key)

    # ----- delivery ----------------------------------------------------------------------
    def _run_retry(self, action: Callable[[], None]) -> None:
        with self._lock:
            if self._stopped:
                return
            self._retrying += 1

        def run() -> None:
            try:
                with self._context():
                    action()
            except Exception:
                log.exception("event router: unexpected error in a retry")
            finally:
                with self._lock:
                    self._retrying -= 1

        self._retry_pool.submit(run)

    def _attempt(self, delivery: Delivery) -> None:
        delivery.attempts += 1
        try:
            result = self._invoke(delivery)
        except FunctionError as exc:
            self._failed(delivery, exc.cause, stage="lambda-async", permanent=False)
            return
        except PermanentDeliveryError as exc:
            self._failed(delivery, exc, stage=delivery.stage, permanent=True)
            return
        except Exception as exc:
            self._failed(delivery, exc, stage=delivery.stage, permanent=False)
            return
        self.stats["delivered"] += 1
        self._finished(delivery)
        self.recent.append(
            {
                "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "event_id": delivery.event.get("id"),
                "detail_type": delivery.event.get("detail-type"),
                "account": delivery.account,
                "rule": delivery.rule,
                "target": delivery.target["Arn"],
                "attempts": delivery.attempts,
                "duration_ms": round((time.monotonic() - delivery.started) * 1000, 1),
                "result": result,
            }
        )

    def _policy(self, delivery: Delivery) -> RetryPolicy:
        if delivery.stage == "lambda-async":
            function = find_function(delivery.target["Arn"])
            config = function.event_invoke_config[0].config if function.event_invoke_config else {}
            return RetryPolicy.of_function(config, self.retry_time_scale)
        return RetryPolicy.of_target(delivery.target, self.retry_time_scale)

    def _failed(
        self, delivery: Delivery, exc: BaseException, *, stage: str, permanent: bool
    ) -> None:
        if stage != delivery.stage:  # the event reached Lambda: its retries from here on
            delivery.stage, delivery.attempts = stage, 1
            delivery.stage_started = time.monotonic()
            delivery.stage_started_at = time.time()
        policy = self._policy(delivery)
        exhausted = None if not permanent else "NonRetryable"
        if exhausted is None:
            exhausted = policy.exhausted(
                delivery.attempts - 1, time.monotonic() - delivery.stage_started
            )
        log.warning(
            "rule %s -> %s: attempt %d failed (%s): %s",
            delivery.rule,
            delivery.target["Arn"],
            delivery.attempts,
            policy.kind,
            one_line(exc),
        )
        if exhausted is None:
            self.stats["retries"] += 1
            delay = policy.delay(delivery.attempts)
            if self.ledger is not None and delivery.key is not None:
                self.ledger.retry(
                    delivery.key,
                    delivery.target_key,
                    stage=delivery.stage,
                    attempts=delivery.attempts,
                    started_at=delivery.stage_started_at,
                    due_at=time.time() + delay,
                )
            self._scheduler.later(delay, lambda: self._attempt(delivery))
            return
        self._dead_letter(delivery, exc, exhausted)

    def _execution_role_clients(self, function_arn: str) -> Any | None:
        """Under enforcement, the clients of the role Lambda sends ``function_arn``'s dead
        letters with (its execution role); else None (the router sends directly)."""
        from batchops.localcloud.aws.context import current_cloud_or_none
        from batchops.localcloud.aws.iam.authorization import enforcing

        cloud = current_cloud_or_none()
        if cloud is None or not enforcing(cloud):
            return None
        try:
            function = find_function(function_arn)
        except PermanentDeliveryError:
            return None
        return self._sessions.clients(str(function.role), function_arn.split(":")[3])

    def _events_may(self, action: str, arn: str, delivery: Delivery) -> None:
        """Under enforcement, EventBridge (``events.amazonaws.com``, for the rule) needs the
        target's resource policy: a function's permission (``AddPermission``). Refused, it
        does not retry: the event goes to the dead-letter queue with ``NO_PERMISSIONS``."""
        refusal = self._events_refusal(action, arn, delivery)
        if refusal is not None:
            raise PermanentDeliveryError(refusal, "NO_PERMISSIONS")

    def _events_refusal(self, action: str, arn: str, delivery: Delivery) -> str | None:
        from batchops.localcloud.aws.context import current_cloud_or_none
        from batchops.localcloud.aws.iam.authorization import (
            _customer_key,
            enforcing,
            service_refusal,
        )

        cloud = current_cloud_or_none()
        if cloud is None or not enforcing(cloud):
            return None
        region, account = arn.split(":")[3:5]
        key_id: str | None = None
        if action == "lambda:InvokeFunction":
            from moto.awslambda.models import lambda_backends

            backend, name = lambda_backends[account][region], arn.split(":")[6]
            try:
                backend.get_function(name)
            except Exception:
                return None  # the invocation itself answers for a function that does not exist
            try:
                policy: str | None = json.loads(backend.get_policy(name))["Policy"]
            except Exception:  # no permission at all
                policy = None
        else:  # sqs:SendMessage to the rule's dead-letter queue, under its key
            from moto.sqs.models import sqs_backends

            try:
                queue = sqs_backends[account][region].get_queue(arn.rsplit(":", 1)[1])
            except Exception:
                return None  # the send itself answers for a queue that does not exist
            policy = getattr(queue, "policy", None) or None
            key_id = _customer_key(getattr(queue, "kms_master_key_id", None), "alias/aws/sqs")
        return service_refusal(
            "events.amazonaws.com",
            action,
            arn,
            policy,
            account=delivery.account,
            region=region,
            source_arn=delivery.rule_arn,
            key_id=key_id,
            key_actions=("kms:GenerateDataKey", "kms:Decrypt"),
        )

    def _dead_letter(self, delivery: Delivery, exc: BaseException, exhausted: str) -> None:
        send_as, refused = None, None
        if delivery.stage == "lambda-async":
            queue_arn = on_failure_destination(delivery.target["Arn"])
            function_arn: str | None = delivery.target["Arn"]
            send_as = self._execution_role_clients(delivery.target["Arn"]) if queue_arn else None
        else:
            queue_arn = (delivery.target.get("DeadLetterConfig") or {}).get("Arn")
            function_arn = None
            if queue_arn:  # EventBridge sends it: the queue's policy and key must let it
                refused = self._events_refusal("sqs:SendMessage", str(queue_arn), delivery)
        self.stats["dead_letters"] += 1
        self.dead.record(
            delivery.event,
            account=delivery.account,
            rule=delivery.rule,
            rule_arn=delivery.rule_arn,
            target=delivery.target,
            kind=delivery.stage,
            attempts=delivery.attempts,
            error=one_line(exc),
            error_code=getattr(exc, "error_code", None) or type(exc).__name__,
            exhausted=exhausted,
            queue_arn=queue_arn,
            function_arn=function_arn,
            send_as=send_as,
            refused=refused,
        )
        log.error(
            "rule %s -> %s: dead letter after %d attempt(s) (%s): %s",
            delivery.rule,
            delivery.target["Arn"],
            delivery.attempts,
            exhausted,
            one_line(exc),
        )
        self._finished(delivery)

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.dead.all()

    def status(self) -> dict[str, Any]:
        return {
            "stats": dict(self.stats),
            "undelivered": self.ledger.unsettled() if self.ledger else None,
            "recent": list(self.recent)[-200:],
        }

    def _invoke(self, delivery: Delivery) -> Any:
        event, target = delivery.event, delivery.target
        arn = str(target["Arn"])
        parts = arn.split(":")
        if len(parts) < 6:
            raise PermanentDeliveryError(f"target ARN {arn!r} is not an ARN")
        service, region, account = parts[2], parts[3], parts[4]
        payload = target_payload(event, target)
        if service == "lambda":
            self._events_may("lambda:InvokeFunction", arn, delivery)
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
                source_account=delivery.account,
                target_account=account,
                region=region,
                bus_name=arn.split(":event-bus/", 1)[1],
                hops=delivery.hops,
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
        if target_account != source_account and not resource_policy_allows(
            bus.policy, source_account, "events:PutEvents", bus_arn
        ):
            raise PermanentDeliveryError(
                f"event bus {bus_name} in {target_account} has no policy allowing "
                f"events:PutEvents from {source_account}"
            )
        self.submit(event, target_account, bus_name, hops + 1)
        return {"forwarded_to": f"{target_account}/{bus_name}"}


def _resumed(item: PendingEvent) -> _Routed:
    return _Routed(
        item.event,
        item.account,
        item.bus,
        item.hops,
        item.key,
        frozenset(item.done),
        dict(item.retries),
    )


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
