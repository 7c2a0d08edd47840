"""S3 public access is blocked on all four settings."""

from __future__ import annotations

from typing import Any

from _common import is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

SETTINGS = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)


class S3PublicAccessBlocked(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="S3 public access block sets all four settings to true",
            id="CKV_BATCHOPS_2",
            categories=[CheckCategories.NETWORKING],
            supported_resources=["aws_s3_bucket_public_access_block"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = list(SETTINGS)
        ok = all(is_true(value(conf, setting)) for setting in SETTINGS)
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = S3PublicAccessBlocked()
