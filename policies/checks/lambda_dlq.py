"""Lambda functions send failed asynchronous events to a dead-letter queue."""

from __future__ import annotations

from typing import Any

from _common import blocks, is_set, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class LambdaHasDeadLetterQueue(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Lambda function has dead_letter_config with a target_arn",
            id="CKV_BATCHOPS_8",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_resources=["aws_lambda_function"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["dead_letter_config"]
        dlq = blocks(conf, "dead_letter_config")
        ok = bool(dlq) and all(is_set(value(b, "target_arn")) for b in dlq)
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = LambdaHasDeadLetterQueue()
