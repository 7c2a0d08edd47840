"""Dead letters: the events that failed every delivery attempt, read and re-driven through
the AWS APIs — the same code on AWS and on the local cloud.

Where they are is what the accounts declare: each batchops Lambda function's
``DeadLetterConfig`` (events its asynchronous invocations failed on, after Lambda's
retries) and each batchops rule target's ``DeadLetterConfig`` (events EventBridge could not
deliver). Both are standard SQS queues; a message's body is the event, its attributes say
why (Lambda: ``ErrorMessage``; EventBridge: ``RULE_ARN``, ``TARGET_ARN``, ``ERROR_CODE``,
``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``, ``RETRY_ATTEMPTS``).

Listing *peeks* (receives with a zero visibility timeout, deletes nothing). Re-driving hands
the event to where it was going — the function (``Invoke``, synchronously, so a failure is
seen and the message kept), or the rule target as EventBridge would (a pipeline is started
with the target's parameters and a client token derived from the event, so a second redrive
of the same event starts nothing new) — and deletes the message only once that succeeded.
The handlers are idempotent (DynamoDB claims): a redrive never deploys or notifies twice.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from batchops.aws import Clients, error_message
from batchops.errors import CloudError, NotFoundError

PREFIX = "batchops-"


@dataclass
class DeadLetter:
    id: str
    environment: str
    account: str
    queue_arn: str
    source: str  # "function" | "rule"
    source_name: str
    target_arn: str
    error: str
    exhausted: str | None
    sent_at: str | None
    event_id: str | None
    detail_type: str | None
    #: what the event is about (its first resource, e.g. the model package ARN)
    resource: str | None
    body: str = field(repr=False)
    rule_arn: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("body")
        return data


@dataclass(frozen=True)
class Queue:
    arn: str
    source: str
    source_name: str

    @property
    def name(self) -> str:
        return self.arn.rsplit(":", 1)[1]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


def dead_letter_queues(clients: Clients) -> list[Queue]:
    """The queues the account's batchops functions and rule targets send dead letters to."""
    from botocore.exceptions import BotoCoreError, ClientError

    found: dict[str, Queue] = {}
    try:
        lam, events = clients.client("lambda"), clients.client("events")
        for page in lam.get_paginator("list_functions").paginate():
            for function in page.get("Functions", []):
                name = function["FunctionName"]
                if not name.startswith(PREFIX):
                    continue
                config = lam.get_function_configuration(FunctionName=name)
                target = (config.get("DeadLetterConfig") or {}).get("TargetArn")
                if target and ":sqs:" in target:
                    found.setdefault(target, Queue(target, "function", name))
        for rule in events.list_rules(NamePrefix=PREFIX).get("Rules", []):
            for target in events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                queue = (target.get("DeadLetterConfig") or {}).get("Arn")
                if queue:
                    found.setdefault(queue, Queue(queue, "rule", rule["Name"]))
    except (ClientError, BotoCoreError) as exc:
        raise CloudError(
            f"cannot read the dead-letter configuration: {error_message(exc)}"
        ) from None
    return sorted(found.values(), key=lambda q: q.arn)


def _iso(millis: str | None) -> str | None:
    if not millis:
        return None
    return datetime.fromtimestamp(int(millis) / 1000, UTC).isoformat(timespec="seconds")


def _queue_url(clients: Clients, queue: Queue) -> str:
    return str(
        clients.client("sqs").get_queue_url(
            QueueName=queue.name, QueueOwnerAWSAccountId=queue.account
        )["QueueUrl"]
    )


def _letter(environment: str, queue: Queue, message: dict[str, Any]) -> DeadLetter:
    attributes = {
        k: v.get("StringValue", "") for k, v in (message.get("MessageAttributes") or {}).items()
    }
    try:
        event = json.loads(message["Body"])
    except ValueError:
        event = {}
    event = event if isinstance(event, dict) else {}
    function_target = f"arn:aws:lambda:{queue.arn.split(':')[3]}:{queue.account}:function:"
    return DeadLetter(
        id=str(message["MessageId"]),
        environment=environment,
        account=queue.account,
        queue_arn=queue.arn,
        source=queue.source,
        source_name=queue.source_name,
        target_arn=attributes.get("TARGET_ARN")
        or (function_target + queue.source_name if queue.source == "function" else ""),
        error=attributes.get("ERROR_MESSAGE") or attributes.get("ErrorMessage") or "",
        exhausted=attributes.get("EXHAUSTED_RETRY_CONDITION"),
        sent_at=_iso((message.get("Attributes") or {}).get("SentTimestamp")),
        event_id=event.get("id"),
        detail_type=event.get("detail-type"),
        resource=(event.get("resources") or [None])[0],
        body=str(message["Body"]),
        rule_arn=attributes.get("RULE_ARN"),
    )


def peek(clients: Clients, environment: str, queue: Queue) -> list[DeadLetter]:
    """Every message of ``queue``, without consuming any."""
    sqs = clients.client("sqs")
    url = _queue_url(clients, queue)
    seen: dict[str, DeadLetter] = {}
    for _round in range(50):
        answer = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        new = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
        if not new:
            break
        for message in new:
            seen[message["MessageId"]] = _letter(environment, queue, message)
    return sorted(seen.values(), key=lambda d: (d.sent_at or "", d.id))


def list_dead_letters(clients: Clients, environment: str) -> list[DeadLetter]:
    from botocore.exceptions import BotoCoreError, ClientError

    letters = []
    for queue in dead_letter_queues(clients):
        try:
            letters.extend(peek(clients, environment, queue))
        except (ClientError, BotoCoreError) as exc:
            raise CloudError(f"cannot read {queue.arn}: {error_message(exc)}") from None
    return letters


# ----- redrive -------------------------------------------------------------------------------
def _json_path(event: Any, path: str) -> Any:
    node = event
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            node = node.get(part) if isinstance(node, dict) else None
    return node


def _invoke(clients: Clients, function: str, body: str) -> str:
    answer = clients.client("lambda").invoke(
        FunctionName=function, InvocationType="RequestResponse", Payload=body.encode()
    )
    payload = answer["Payload"].read().decode("utf-8", "replace")
    if answer.get("FunctionError"):
        try:
            reason = json.loads(payload).get("errorMessage", payload)
        except ValueError:
            reason = payload
        raise CloudError(f"{function} failed again: {str(reason).splitlines()[0][:300]}")
    return f"{function} -> {payload[:200]}"


def _to_target(clients: Clients, letter: DeadLetter, event: dict[str, Any]) -> str:
    arn = letter.target_arn
    service = arn.split(":")[2] if arn.count(":") >= 5 else ""
    if service == "lambda":
        return _invoke(clients, arn.split(":")[6], letter.body)
    if service == "sagemaker" and ":pipeline/" in arn:
        rule = (letter.rule_arn or "").rsplit("/", 1)[-1]
        targets = clients.client("events").list_targets_by_rule(Rule=rule).get("Targets", [])
        target = next((t for t in targets if t["Arn"] == arn), None)
        if target is None:
            raise CloudError(f"rule {rule} no longer targets {arn}; nothing to redrive to")
        parameters = []
        listed = (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList", [])
        for entry in listed:
            value = entry["Value"]
            if isinstance(value, str) and value.startswith("$."):
                value = _json_path(event, value)
            parameters.append({"Name": entry["Name"], "Value": str(value)})
        token = hashlib.sha256(f"{event.get('id')}-{target.get('Id')}".encode()).hexdigest()
        started = clients.client("sagemaker").start_pipeline_execution(
            PipelineName=arn.rsplit("/", 1)[1],
            PipelineParameters=parameters,
            ClientRequestToken=token[:64],
            PipelineExecutionDisplayName=f"redrive-{str(event.get('id', ''))[:8]}",
        )
        return f"started {started['PipelineExecutionArn']}"
    if service == "sns":
        clients.client("sns").publish(TopicArn=arn, Message=letter.body)
        return f"published to {arn}"
    if service == "sqs":
        name = arn.rsplit(":", 1)[1]
        url = clients.client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
        clients.client("sqs").send_message(QueueUrl=url, MessageBody=letter.body)
        return f"sent to {arn}"
    raise CloudError(
        f"dead letter {letter.id}: cannot redrive to {arn or 'an unknown target'} "
        "(events of aws.* sources cannot be put on a bus again; deliver it by hand)"
    )


def redrive(clients: Clients, letter: DeadLetter) -> str:
    """Deliver ``letter`` where it was going; delete it from its queue once delivered."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        event = json.loads(letter.body)
    except ValueError:
        raise CloudError(f"dead letter {letter.id}: its body is not an event (JSON)") from None
    try:
        outcome = _to_target(clients, letter, event)
    except (ClientError, BotoCoreError) as exc:
        raise CloudError(f"dead letter {letter.id}: redrive failed: {error_message(exc)}") from None
    _delete(clients, letter)
    return outcome


def _delete(clients: Clients, letter: DeadLetter) -> None:
    """Remove the delivered message (receive it for a handle, then delete)."""
    queue = Queue(letter.queue_arn, letter.source, letter.source_name)
    sqs = clients.client("sqs")
    url = _queue_url(clients, queue)
    for _round in range(50):
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=30, WaitTimeSeconds=0
        )
        messages = answer.get("Messages", [])
        if not messages:
            break
        for message in messages:
            if message["MessageId"] == letter.id:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                others = [m for m in messages if m["MessageId"] != letter.id]
                _release(sqs, url, others)
                return
        _release(sqs, url, messages)
    raise NotFoundError(f"dead letter {letter.id} was delivered but is no longer in its queue")


def _release(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    for message in messages:
        sqs.change_message_visibility(
            QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
