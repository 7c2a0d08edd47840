"""SNS topics and SQS queues are encrypted with a KMS key (SQS-managed SSE is not enough)."""

from __future__ import annotations

from typing import Any

from _common import is_set, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class TopicsAndQueuesUseKms(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="SNS topic / SQS queue is encrypted with a KMS key (kms_master_key_id set)",
            id="CKV_BATCHOPS_4",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_sns_topic", "aws_sqs_queue"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["kms_master_key_id"]
        ok = is_set(value(conf, "kms_master_key_id"))
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = TopicsAndQueuesUseKms()
