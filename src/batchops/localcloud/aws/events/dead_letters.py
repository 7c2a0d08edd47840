"""Where an event goes when every retry failed: the dead-letter queue AWS would use.

* a function error after Lambda's asynchronous retries -> the function's ``DeadLetterConfig``
  (an SQS queue or SNS topic; body = the event; attributes ``RequestID``, ``ErrorCode``,
  ``ErrorMessage``), or its ``EventInvokeConfig`` on-failure destination;
* a target EventBridge could not deliver to -> the target's ``DeadLetterConfig`` (an SQS
  queue; body = the event; attributes ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``,
  ``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``, ``RETRY_ATTEMPTS``);
* neither configured: AWS drops the event (only a metric counts it).

Sending to a queue wakes the CloudWatch alarms declared on it (:mod:`..cloudwatch.sqs_alarms`),
which is how a dead letter reaches people (SNS) on AWS and here. The router also keeps its own
record of every dead letter — ``<state>/dead-letters.json``, served at
``/_batchops/dead-letters`` — including the dropped ones, so that nothing is lost silently
on the local cloud; ``batchops events dead-letters`` reads the queues (as on AWS).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.fs import atomic_write_json

log = logging.getLogger(__name__)


def _attribute(value: Any) -> dict[str, str]:
    return {"DataType": "String", "StringValue": str(value)[:4096]}


class DeadLetters:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / "dead-letters.json"
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = self._load()

    def _load(self) -> list[dict[str, Any]]:
        try:
            return list(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.error("dead letters %s unreadable (%s); starting a new list", self.path, exc)
            return []

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records]

    def record(
        self,
        event: dict[str, Any],
        *,
        account: str,
        rule: str,
        rule_arn: str,
        target: dict[str, Any],
        kind: str,
        attempts: int,
        error: str,
        error_code: str,
        exhausted: str | None,
        queue_arn: str | None,
        function_arn: str | None = None,
        send_as: Any | None = None,
        refused: str | None = None,
    ) -> dict[str, Any]:
        """Send to the dead-letter queue (when there is one) and keep the record.

        ``send_as``: the :class:`batchops.aws.Clients` of the principal AWS sends as — Lambda
        sends a function's dead letter with the function's execution role, so its
        ``sqs:SendMessage`` (``sns:Publish``) and the queue key's ``kms:GenerateDataKey`` and
        ``kms:Decrypt`` are checked; refused, the event is lost on AWS (the function's
        ``DeadLetterErrors`` metric counts it) and kept here with the refusal. ``refused``:
        why EventBridge may not send to the queue (its queue policy or key policy does not
        let ``events.amazonaws.com``); the event is not sent, as on AWS
        (``InvocationsFailedToBeSentToDlq``), and kept here with the refusal."""
        record: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "account": account,
            "rule": rule,
            "rule_arn": rule_arn,
            "target_id": target.get("Id"),
            "target_arn": target.get("Arn"),
            "kind": kind,
            "attempts": attempts,
            "error": error,
            "error_code": error_code,
            "exhausted": exhausted,
            "queue_arn": queue_arn,
            "function_arn": function_arn,
            "message_id": None,
            "status": "dead",
            "event": event,
        }
        if queue_arn and refused:
            record["queue_error"] = refused[:300]
            log.error("dead-letter queue %s refused the event: %s", queue_arn, refused)
        elif queue_arn:
            try:
                record["message_id"] = self._send(record, send_as)
            except Exception as exc:  # the queue is gone or refuses: keep it here, loudly
                record["queue_error"] = f"{type(exc).__name__}: {exc}"[:300]
                log.error("dead-letter queue %s refused the event: %s", queue_arn, exc)
        else:
            record["status"] = "dropped"
            log.error(
                "rule %s -> %s: no dead-letter queue; on AWS the event would be dropped",
                rule,
                target.get("Arn"),
            )
        with self._lock:
            self._records.append(record)
            atomic_write_json(self.path, self._records)
        return record

    def _send(self, record: dict[str, Any], send_as: Any | None = None) -> str:
        from batchops.localcloud.aws.cloudwatch.sqs_alarms import queue_received_message

        queue_arn = str(record["queue_arn"])
        body = json.dumps(record["event"], default=str)
        if record["kind"] == "lambda-async":
            attributes = {
                "RequestID": _attribute(uuid.uuid4()),
                "ErrorCode": _attribute(200),
                "ErrorMessage": _attribute(record["error"]),
            }
        else:
            attributes = {
                "RULE_ARN": _attribute(record["rule_arn"]),
                "TARGET_ARN": _attribute(record["target_arn"]),
                "ERROR_CODE": _attribute(record["error_code"]),
                "ERROR_MESSAGE": _attribute(record["error"]),
                "EXHAUSTED_RETRY_CONDITION": _attribute(record["exhausted"] or "None"),
                "RETRY_ATTEMPTS": _attribute(max(0, int(record["attempts"]) - 1)),
            }
        service, region, account = queue_arn.split(":")[2:5]
        name = queue_arn.rsplit(":", 1)[1]
        if send_as is not None:  # through the API, as that principal
            if service == "sns":
                sent = send_as.client("sns").publish(TopicArn=queue_arn, Message=body)
                return str(sent["MessageId"])
            url = f"{send_as.endpoint}/{account}/{name}"  # Lambda sends; it looks nothing up
            sent = send_as.client("sqs").send_message(
                QueueUrl=url, MessageBody=body, MessageAttributes=attributes
            )
            queue_received_message(account, region, name)
            return str(sent["MessageId"])
        if service == "sns":
            from moto.sns.models import sns_backends

            message_id = sns_backends[account][region].publish(message=body, arn=queue_arn)
            _persist("sns", account)
            return str(message_id)
        from moto.sqs.models import sqs_backends

        message = sqs_backends[account][region].send_message(
            name, body, message_attributes=attributes
        )
        _persist("sqs", account)
        queue_received_message(account, region, name)
        return str(message.id)

    def mark(self, record_id: str, **changes: Any) -> None:
        with self._lock:
            for record in self._records:
                if record["id"] == record_id or record.get("message_id") == record_id:
                    record.update(changes)
            atomic_write_json(self.path, self._records)


def _persist(service: str, account: str) -> None:
    """Snapshot a backend the router changed directly (not through an API request)."""
    from batchops.localcloud.aws.context import current_cloud_or_none

    cloud = current_cloud_or_none()
    state = getattr(cloud, "state", None) if cloud is not None else None
    if state is not None:
        with state.lock_for(service):
            state.save(service, [account])
