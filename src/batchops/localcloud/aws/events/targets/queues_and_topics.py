"""SNS topic and SQS queue targets (moto's backends, in the target's account)."""

from __future__ import annotations

from typing import Any


def publish_to_topic(arn: str, message: str) -> Any:
    from moto.sns.models import sns_backends

    _, _, _, region, account, _ = arn.split(":", 5)
    return {"message_id": sns_backends[account][region].publish(message=message, arn=arn)}


def send_to_queue(arn: str, body: str) -> Any:
    from moto.sqs.models import sqs_backends

    _, _, _, region, account, name = arn.split(":", 5)
    sqs_backends[account][region].send_message(name, body)
    return {"queue": name}
