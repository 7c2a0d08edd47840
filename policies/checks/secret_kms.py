"""Secrets Manager secrets are encrypted with our KMS key (kms_key_id set)."""

from __future__ import annotations

from typing import Any

from _common import is_set, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class SecretUsesOurKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Secrets Manager secret is encrypted with a customer-managed KMS key",
            id="CKV_BATCHOPS_6",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_secretsmanager_secret"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["kms_key_id"]
        return CheckResult.PASSED if is_set(value(conf, "kms_key_id")) else CheckResult.FAILED


check = SecretUsesOurKey()
