"""S3 buckets are encrypted with a customer-managed KMS key (not SSE-S3, not the AWS key)."""

from __future__ import annotations

from typing import Any

from _common import blocks, is_set, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class S3BucketEncryptedWithOurKey(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="S3 bucket default encryption uses aws:kms with our key (kms_master_key_id set)",
            id="CKV_BATCHOPS_1",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_server_side_encryption_configuration"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        rules = blocks(conf, "rule")
        self.evaluated_keys = ["rule"]
        if not rules:
            return CheckResult.FAILED
        for rule in rules:
            default = value(rule, "apply_server_side_encryption_by_default")
            if not isinstance(default, dict):
                return CheckResult.FAILED
            algorithm = value(default, "sse_algorithm")
            if algorithm not in ("aws:kms", "aws:kms:dsse"):
                return CheckResult.FAILED
            if not is_set(value(default, "kms_master_key_id")):
                return CheckResult.FAILED
        return CheckResult.PASSED


check = S3BucketEncryptedWithOurKey()
