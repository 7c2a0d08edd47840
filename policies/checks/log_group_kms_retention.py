"""CloudWatch log groups are KMS-encrypted and expire (retention set, not 'never')."""

from __future__ import annotations

from typing import Any

from _common import is_reference, is_set, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def positive(raw: Any) -> bool:
    try:
        return int(raw) > 0
    except (TypeError, ValueError):
        return is_reference(raw)  # a variable: its own validation restricts the values


class LogGroupEncryptedAndExpiring(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="CloudWatch log group has kms_key_id and a retention_in_days > 0",
            id="CKV_BATCHOPS_7",
            categories=[CheckCategories.LOGGING],
            supported_resources=["aws_cloudwatch_log_group"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["kms_key_id", "retention_in_days"]
        ok = is_set(value(conf, "kms_key_id")) and positive(value(conf, "retention_in_days"))
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = LogGroupEncryptedAndExpiring()
