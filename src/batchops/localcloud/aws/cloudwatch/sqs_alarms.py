"""Alarms on dead-letter queues, evaluated when a message arrives or the queue empties.

On AWS a dead letter reaches people through a CloudWatch alarm on the queue's
``ApproximateNumberOfMessagesVisible`` whose action is an SNS topic (the Terraform module
declares it beside each queue). moto stores alarms but never evaluates them; here an alarm
on an SQS queue's ``ApproximateNumberOfMessagesVisible`` (``GreaterThanOrEqualToThreshold``
or ``GreaterThanThreshold``) is evaluated whenever the local cloud puts a dead letter into
that queue or a redrive empties it, and its ``AlarmActions``/``OKActions`` topics get the
message CloudWatch sends (JSON with ``AlarmName``, ``NewStateValue``, ``NewStateReason``...).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger(__name__)
METRIC = "ApproximateNumberOfMessagesVisible"


def _breaches(alarm: Any, visible: int) -> bool:
    threshold = float(alarm.threshold or 0)
    if alarm.comparison_operator == "GreaterThanThreshold":
        return visible > threshold
    if alarm.comparison_operator == "GreaterThanOrEqualToThreshold":
        return visible >= threshold
    return False


def _alarms_on(account: str, region: str, queue: str) -> list[Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    found = []
    for alarm in list(cloudwatch_backends[account][region].alarms.values()):
        dimensions = {d.name: d.value for d in alarm.dimensions}
        if (
            alarm.namespace == "AWS/SQS"
            and alarm.metric_name == METRIC
            and dimensions.get("QueueName") == queue
        ):
            found.append(alarm)
    return found


def queue_received_message(account: str, region: str, queue: str) -> None:
    evaluate(account, region, queue)


def evaluate(account: str, region: str, queue: str) -> None:
    """Move each alarm on ``queue`` to ALARM/OK by its depth; notify its actions on a change."""
    from moto.sqs.models import sqs_backends

    try:
        visible = int(sqs_backends[account][region].get_queue(queue).approximate_number_of_messages)
    except Exception:
        return
    for alarm in _alarms_on(account, region, queue):
        state = "ALARM" if _breaches(alarm, visible) else "OK"
        if state == alarm.state_value:
            continue
        previous = alarm.state_value
        reason = (
            f"Threshold Crossed: 1 datapoint [{visible}.0] was "
            f"{'greater than or equal to' if state == 'ALARM' else 'less than'} the threshold "
            f"({float(alarm.threshold):.1f})."
        )
        alarm.update_state(reason, json.dumps({"visible": visible}), state)
        actions = alarm.alarm_actions if state == "ALARM" else alarm.ok_actions
        if alarm.actions_enabled:
            for topic in actions or []:
                _notify(topic, alarm, previous=previous, reason=reason, where=(account, region))


def _notify(topic: str, alarm: Any, *, previous: str, reason: str, where: tuple[str, str]) -> None:
    account, region = where
    state = alarm.state_value
    from moto.sns.models import sns_backends

    message = {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account,
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "Region": region,
        "AlarmArn": alarm.alarm_arn,
        "OldStateValue": previous,
        "Trigger": {
            "MetricName": alarm.metric_name,
            "Namespace": alarm.namespace,
            "Dimensions": [{"name": d.name, "value": d.value} for d in alarm.dimensions],
            "ComparisonOperator": alarm.comparison_operator,
            "Threshold": alarm.threshold,
        },
    }
    try:
        _topic_account, topic_region = topic.split(":")[4], topic.split(":")[3]
        sns_backends[_topic_account][topic_region].publish(
            message=json.dumps(message),
            arn=topic,
            subject=f'{state}: "{alarm.name}" in {region}'[:100],
        )
    except Exception as exc:
        log.error("alarm %s: cannot notify %s: %s", alarm.name, topic, exc)
