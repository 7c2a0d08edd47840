"""Exactly-once side effects on top of at-least-once delivery: a DynamoDB claim per key.

EventBridge may deliver an event more than once, and two deliveries may run at the same
time. Before acting, a handler *claims* the key with a conditional write; after acting it
marks the claim *done*. A claim that is still pending carries a lease: if the handler died
mid-way, a later delivery takes it over once the lease has expired, so a crash never
blocks the action for ever, and a live claim is never taken over.

Table (Terraform and the bootstrap): hash key ``pk`` (S), TTL attribute ``expires_at``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

from batchops.functions._runtime import HandlerError, aws_error_code, client

PENDING = "pending"
DONE = "done"
#: How long a finished record is kept (TTL): long after any EventBridge redelivery.
KEEP_SECONDS = 90 * 24 * 3600


class ClaimInProgressError(HandlerError):
    """Another delivery of the same event is acting right now; retry later."""


@dataclass(frozen=True)
class Claim:
    outcome: Literal["claimed", "done"]
    item: dict[str, Any]


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in item.items():
        ((kind, raw),) = value.items()
        out[name] = int(raw) if kind == "N" else raw
    return out


class IdempotencyStore:
    def __init__(self, table: str, *, lease_seconds: int = 300) -> None:
        self.table = table
        self.lease_seconds = lease_seconds

    def claim(self, key: str, **attributes: str) -> Claim:
        """Claim ``key``; ``outcome == "done"`` when an earlier delivery already acted."""
        dynamodb = client("dynamodb")
        now = int(time.time())
        item = {
            "pk": {"S": key},
            "status": {"S": PENDING},
            "lease_until": {"N": str(now + self.lease_seconds)},
            "claimed_at": {"N": str(now)},
            "expires_at": {"N": str(now + KEEP_SECONDS)},
            **{name: {"S": value} for name, value in attributes.items()},
        }
        try:
            dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR "
                "(#status = :pending AND lease_until < :now)",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}, ":now": {"N": str(now)}},
            )
            return Claim("claimed", _plain(item))
        except Exception as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise
        existing = dynamodb.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        current = _plain(existing.get("Item", {}))
        if current.get("status") == DONE:
            return Claim("done", current)
        raise ClaimInProgressError(
            f"{key}: another delivery holds the claim until {current.get('lease_until')}; "
            "retry later"
        )

    def complete(self, key: str, **result: str) -> None:
        names = {"#status": "status", **{f"#{k}": k for k in result}}
        values = {":done": {"S": DONE}, **{f":{k}": {"S": v} for k, v in result.items()}}
        assignments = ", ".join(["#status = :done", *(f"#{k} = :{k}" for k in result)])
        client("dynamodb").update_item(
            TableName=self.table,
            Key={"pk": {"S": key}},
            UpdateExpression=f"SET {assignments}",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def release(self, key: str) -> None:
        """Give a pending claim back (the action failed) so a redelivery can act."""
        try:
            client("dynamodb").delete_item(
                TableName=self.table,
                Key={"pk": {"S": key}},
                ConditionExpression="#status = :pending",
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":pending": {"S": PENDING}},
            )
        except Exception as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise

    def put_if_older(self, key: str, *, field: str, newer_than: int, **attributes: str) -> bool:
        """Write ``key`` with ``field = now`` unless it exists with ``field >= newer_than``.

        The atomic half of a cooldown: of two concurrent callers only one wins.
        """
        now = int(time.time())
        item = {
            "pk": {"S": key},
            field: {"N": str(now)},
            "expires_at": {"N": str(now + KEEP_SECONDS)},
            **{name: {"S": value} for name, value in attributes.items()},
        }
        try:
            client("dynamodb").put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR #f <= :limit",
                ExpressionAttributeNames={"#f": field},
                ExpressionAttributeValues={":limit": {"N": str(newer_than)}},
            )
            return True
        except Exception as exc:
            if aws_error_code(exc) != "ConditionalCheckFailedException":
                raise
            return False

    def delete(self, key: str) -> None:
        client("dynamodb").delete_item(TableName=self.table, Key={"pk": {"S": key}})

    def get(self, key: str) -> dict[str, Any]:
        found = client("dynamodb").get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        return _plain(found.get("Item", {}))
