"""Roles trusted by an OIDC provider are limited to our audience and to named project refs.

One exception, declared on the role: a role tagged ``batchops:ci-access = read-only`` (the
Terraform plan role, which merge-request pipelines of any branch assume) may trust every
*branch* of the project (``project_path:<p>:ref_type:branch:ref:*``). The tag is a
reviewable promise, checked by the security team in CODEOWNERS; the project path must still
be pinned.
"""

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


READ_ONLY_TAG = ("batchops:ci-access", "read-only")


def any_branch_subject(subject: str) -> bool:
    """``project_path:<pinned path>:ref_type:branch:ref:*``: every branch, one project."""
    head, _, path_rest = subject.partition("project_path:")
    path = path_rest.removesuffix(":ref_type:branch:ref:*")
    return head == "" and path not in (path_rest, "") and "*" not in path


def scoped(statement: dict[str, Any], read_only: bool = False) -> bool:
    """aud pinned, and every sub names a project path and a ref (no bare wildcards)."""
    condition = statement.get("Condition") or {}
    subjects = condition_values(condition, ":sub")
    return (
        bool(condition_values(condition, ":aud"))
        and bool(subjects)
        and all(s.startswith("project_path:") and ":ref:" in s for s in subjects)
        and not any(
            s.startswith("project_path:*")
            or (s.endswith(":ref:*") and not (read_only and any_branch_subject(s)))
            for s in subjects
        )
    )


def tagged_read_only(conf: dict[str, Any]) -> bool:
    tags = value(conf, "tags") or {}
    return isinstance(tags, dict) and tags.get(READ_ONLY_TAG[0]) == READ_ONLY_TAG[1]


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
        read_only = tagged_read_only(conf)
        passed = all(scoped(s, read_only) for s in federated)
        return CheckResult.PASSED if passed else CheckResult.FAILED


check = OidcTrustScopedToProjectRefs()
