"""DynamoDB tables use server-side encryption with our KMS key, not the AWS-owned key."""

from __future__ import annotations

from typing import Any

from _common import blocks, is_set, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class DynamoDbTableUsesOurKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="DynamoDB table has server_side_encryption enabled with kms_key_arn",
            id="CKV_BATCHOPS_5",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_dynamodb_table"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["server_side_encryption"]
        sse = blocks(conf, "server_side_encryption")
        ok = bool(sse) and all(
            is_true(value(b, "enabled")) and is_set(value(b, "kms_key_arn")) for b in sse
        )
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = DynamoDbTableUsesOurKey()
