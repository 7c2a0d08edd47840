"""S3 bucket policies deny every request not made over TLS (aws:SecureTransport = false)."""

from __future__ import annotations

from typing import Any

from _common import as_list, policy_document, statements, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def denies_plain_http(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    condition = statement.get("Condition") or {}
    secure = (condition.get("Bool") or {}).get("aws:SecureTransport")
    return any(str(v).lower() == "false" for v in as_list(secure))


class S3BucketPolicyTlsOnly(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="S3 bucket policy denies requests without TLS (aws:SecureTransport false)",
            id="CKV_BATCHOPS_3",
            categories=[CheckCategories.ENCRYPTION],
            supported_resources=["aws_s3_bucket_policy"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["policy"]
        document = policy_document(value(conf, "policy"))
        if document is None:  # not rendered in .tf; the plan JSON scan decides
            return CheckResult.UNKNOWN
        ok = any(denies_plain_http(s) for s in statements(document))
        return CheckResult.PASSED if ok else CheckResult.FAILED


check = S3BucketPolicyTlsOnly()
