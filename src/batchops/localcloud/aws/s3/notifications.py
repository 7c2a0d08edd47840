"""S3 notifications to EventBridge, as S3 sends them.

moto's S3 calls its EventBridge hook for objects created in a bucket whose notification
configuration enables EventBridge; the local cloud turns that into the *Object Created*
event AWS sends (one builder: :mod:`batchops.localcloud.aws.events.envelope`) on its bus.
``GetBucketNotificationConfiguration`` also reports ``EventBridgeConfiguration``, which moto
stores but does not return (Terraform would otherwise plan a change forever).
"""

from __future__ import annotations

from typing import Any

from batchops.localcloud.aws.context import current_cloud_or_none
from batchops.localcloud.aws.events.envelope import s3_object_created


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.s3 import notifications
    from moto.s3.responses import S3Response

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        event = s3_object_created(account=account_id, bucket=bucket, key=key, event_name=event_name)
        cloud = current_cloud_or_none()
        if event is not None and cloud is not None:
            cloud.bus.emit(event)

    notifications._send_event_bridge_message = send_event_bridge_message

    original_get_notification = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return original_get_notification(self)
        response = original_get_notification(self)

        # rebuild with the EventBridge setting moto stores but does not return
        def build(item: Any, arn_key: str) -> dict[str, Any]:
            entry = {"Id": item.id, arn_key: item.arn, "Events": item.events}
            if item.filters:
                entry["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
            return entry

        result = {
            "TopicConfigurations": [build(t, "TopicArn") for t in config.topic],
            "QueueConfigurations": [build(q, "QueueArn") for q in config.queue],
            "LambdaFunctionConfigurations": [
                build(c, "LambdaFunctionArn") for c in config.cloud_function
            ],
            "EventBridgeConfiguration": {},
        }
        del response
        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult(result))

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]
