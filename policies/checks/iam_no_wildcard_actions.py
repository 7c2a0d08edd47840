"""Identity policies never allow `*` or `service:*` actions (least privilege)."""

from __future__ import annotations

from typing import Any

from _common import as_list, policy_document, statements, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def wildcard_action(statement: dict[str, Any]) -> bool:
    if statement.get("Effect") != "Allow":
        return False
    if "NotAction" in statement:  # "everything except" is a wildcard in disguise
        return True
    actions = [str(a) for a in as_list(statement.get("Action"))]
    return any(a == "*" or a.endswith(":*") for a in actions)


class IamPolicyWithoutWildcardActions(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="IAM policy allows no '*' or 'service:*' action (and no NotAction)",
            id="CKV_BATCHOPS_9",
            categories=[CheckCategories.IAM],
            supported_resources=[
                "aws_iam_policy",
                "aws_iam_role_policy",
                "aws_iam_user_policy",
                "aws_iam_group_policy",
            ],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["policy"]
        document = policy_document(value(conf, "policy"))
        if document is None:  # not rendered in .tf; the plan JSON scan decides
            return CheckResult.UNKNOWN
        bad = any(wildcard_action(s) for s in statements(document))
        return CheckResult.FAILED if bad else CheckResult.PASSED


check = IamPolicyWithoutWildcardActions()
