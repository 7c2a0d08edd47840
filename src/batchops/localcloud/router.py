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

import importlib
import json
import logging
import queue
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.errors import CloudError
from batchops.localcloud.router_support import LambdaContext, bus_allows, json_path, one_line

log = logging.getLogger(__name__)
_STOP = object()
MAX_HOPS = 4


class _Lane:
    def __init__(self, name: str, work: Callable[[Any], None], lock: threading.Lock) -> None:
        self._lock = lock
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
    ) -> None:
        self.endpoint = endpoint
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.dead_letter_path = Path(state_dir) / "dead-letters.jsonl"
        self.stats: Counter[str] = Counter()
        self.recent: deque[dict[str, Any]] = deque(maxlen=2000)
        self._dead: list[dict[str, Any]] = []
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._env_cache: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}
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
                lane = self._lanes[key] = _Lane(f"{account}-{key[1]}", self._route, self._lock)
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
                self._send_sqs(queue_arn, json.dumps(record, default=str))
            except Exception as dlq_error:
                log.error("dead-letter queue %s unreachable: %s", queue_arn, one_line(dlq_error))

    def dead_letters(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._dead)

    def status(self) -> dict[str, Any]:
        return {"stats": dict(self.stats), "recent": list(self.recent)[-200:]}

    def _payload(self, event: dict[str, Any], target: dict[str, Any]) -> Any:
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

    def _invoke(
        self, event: dict[str, Any], target: dict[str, Any], rule_account: str, hops: int
    ) -> Any:
        arn = str(target["Arn"])
        parts = arn.split(":")
        if len(parts) < 6:
            raise _Permanent(f"target ARN {arn!r} is not an ARN")
        service, region, account = parts[2], parts[3], parts[4]
        payload = self._payload(event, target)
        if service == "lambda":
            return self._invoke_lambda(payload, account, region, parts[6])
        if service == "sns":
            from moto.sns.models import sns_backends

            body = payload if isinstance(payload, str) else json.dumps(payload, default=str)
            return {"message_id": sns_backends[account][region].publish(message=body, arn=arn)}
        if service == "sqs":
            body = payload if isinstance(payload, str) else json.dumps(payload, default=str)
            return self._send_sqs(arn, body)
        if service == "sagemaker" and ":pipeline/" in arn:
            return self._start_pipeline(event, target, account, region, arn)
        if service == "events" and ":event-bus/" in arn:
            bus_name = arn.split(":event-bus/", 1)[1]
            return self._forward(
                event,
                source_account=rule_account,
                target_account=account,
                region=region,
                bus_name=bus_name,
                hops=hops,
            )
        raise _Permanent(f"target {arn}: the local cloud does not deliver to {service} targets")

    # ----- targets -----------------------------------------------------------------------
    def _session_env(self, role_arn: str, region: str) -> dict[str, str]:
        """Credentials of ``role_arn`` as Lambda's environment has them (cached 10 min)."""
        cached = self._env_cache.get((role_arn, region))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        made = self._make_session_env(role_arn, region)
        self._env_cache[(role_arn, region)] = (time.monotonic() + 600, made)
        return made

    def _make_session_env(self, role_arn: str, region: str) -> dict[str, str]:
        from batchops.aws import Clients

        with self._lock:
            clients = self._clients.get(role_arn)
            if clients is None:
                clients = self._clients[role_arn] = Clients(
                    region=region,
                    endpoint=self.endpoint,
                    role_arn=role_arn,
                    session_name="batchops-router",
                )
        creds = clients.session().get_credentials().get_frozen_credentials()
        return {
            "AWS_ACCESS_KEY_ID": creds.access_key,
            "AWS_SECRET_ACCESS_KEY": creds.secret_key,
            "AWS_SESSION_TOKEN": creds.token or "",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint,
        }

    def _invoke_lambda(self, payload: Any, account: str, region: str, name: str) -> Any:
        from moto.awslambda.models import lambda_backends

        from batchops.functions._runtime import ENVIRONMENT

        try:
            function = lambda_backends[account][region].get_function(name)
        except Exception:
            raise _Permanent(f"Lambda function {name} does not exist in {account}") from None
        module_name, _, attribute = str(function.handler or "").rpartition(".")
        try:
            entry = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError, ValueError):
            raise _Permanent(
                f"Lambda {name}: handler {function.handler!r} is not importable in the local "
                "cloud (it runs handlers in-process)"
            ) from None
        variables = dict(function.environment_vars or {})
        variables.update(self._session_env(function.role, region))
        variables["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
        context = LambdaContext(
            function.function_name, function.function_arn, timeout_s=int(function.timeout or 60)
        )
        token = ENVIRONMENT.set(variables)
        try:
            return entry(payload, context)
        finally:
            ENVIRONMENT.reset(token)

    def _start_pipeline(
        self, event: dict[str, Any], target: dict[str, Any], account: str, region: str, arn: str
    ) -> Any:
        from batchops.aws import Clients

        role = target.get("RoleArn") or f"arn:aws:iam::{account}:role/batchops-deploy"
        parameters = []
        for entry in (target.get("SageMakerPipelineParameters") or {}).get(
            "PipelineParameterList", []
        ):
            value = entry["Value"]
            if isinstance(value, str) and value.startswith("$."):
                value = json_path(event, value)
                if value is None:
                    raise _Permanent(f"parameter {entry['Name']}: {entry['Value']} not in event")
            parameters.append({"Name": entry["Name"], "Value": str(value)})
        with self._lock:
            clients = self._clients.get(role)
            if clients is None:
                clients = self._clients[role] = Clients(
                    region=region,
                    endpoint=self.endpoint,
                    role_arn=role,
                    session_name="batchops-router",
                )
        started = clients.client("sagemaker").start_pipeline_execution(
            PipelineName=arn.rsplit("/", 1)[1],
            PipelineParameters=parameters,
            PipelineExecutionDisplayName=f"event-{str(event.get('id', ''))[:8]}",
            ClientRequestToken=f"{event.get('id', uuid.uuid4())}-{target.get('Id', '')}"[:128],
        )
        return {"pipeline_execution_arn": started["PipelineExecutionArn"]}

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
            raise _Permanent(f"event {event.get('id')} forwarded {hops} times; loop?")
        bus = events_backends[target_account][region].event_buses.get(bus_name)
        if bus is None:
            raise _Permanent(f"event bus {bus_name} does not exist in {target_account}")
        if target_account != source_account and not bus_allows(bus.policy, source_account):
            raise _Permanent(
                f"event bus {bus_name} in {target_account} has no policy allowing "
                f"events:PutEvents from {source_account}"
            )
        self.submit(event, target_account, bus_name, hops + 1)
        return {"forwarded_to": f"{target_account}/{bus_name}"}

    def _send_sqs(self, queue_arn: str, body: str) -> Any:
        from moto.sqs.models import sqs_backends

        _, _, _, region, account, name = queue_arn.split(":", 5)
        sqs_backends[account][region].send_message(name, body)
        return {"queue": name}


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


class _Permanent(CloudError):
    retryable = False
