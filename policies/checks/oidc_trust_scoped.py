"""Roles trusted by an OIDC provider are limited to our audience and to named project refs."""

from __future__ import annotations

from typing import Any

from _common import as_list, is_reference, policy_document, statements, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def condition_values(condition: dict[str, Any], suffix: str) -> list[str]:
    found: list[str] = []
    for operator in ("StringEquals", "StringLike"):
        for key, raw in (condition.get(operator) or {}).items():
            if str(key).endswith(suffix):
                found.extend(str(v) for v in as_list(raw))
    return found


def scoped(statement: dict[str, Any]) -> bool:
    """aud pinned, and every sub names a project path and a ref (no bare wildcards)."""
    condition = statement.get("Condition") or {}
    subjects = condition_values(condition, ":sub")
    return (
        bool(condition_values(condition, ":aud"))
        and bool(subjects)
        and all(s.startswith("project_path:") and ":ref:" in s for s in subjects)
        and not any(s.startswith("project_path:*") or s.endswith(":ref:*") for s in subjects)
    )


def web_identity(statement: dict[str, Any]) -> bool:
    actions = [str(a) for a in as_list(statement.get("Action"))]
    return statement.get("Effect") == "Allow" and "sts:AssumeRoleWithWebIdentity" in actions


class OidcTrustScopedToProjectRefs(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="OIDC-trusted role pins :aud and limits :sub to project_path:...:ref:...",
            id="CKV_BATCHOPS_10",
            categories=[CheckCategories.IAM],
            supported_resources=["aws_iam_role"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["assume_role_policy"]
        document = policy_document(value(conf, "assume_role_policy"))
        if document is None:
            return CheckResult.UNKNOWN
        federated = [s for s in statements(document) if web_identity(s)]
        if not federated:
            return CheckResult.UNKNOWN  # not an OIDC role: nothing to judge
        if any(
            is_reference(v)
            for s in federated
            for v in condition_values(s.get("Condition") or {}, "")
        ):
            return CheckResult.UNKNOWN  # conditions not rendered in .tf; the plan JSON scan decides
        return CheckResult.PASSED if all(scoped(s) for s in federated) else CheckResult.FAILED


check = OidcTrustScopedToProjectRefs()
