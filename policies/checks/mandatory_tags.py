"""Every taggable resource carries the mandatory tags (judged on the plan JSON's tags_all).

In .tf the tags come from the provider's default_tags and module merges, which checkov does
not resolve reliably; the plan JSON has them merged in tags_all, so only it is judged.
"""

from __future__ import annotations

from typing import Any

from _common import MANDATORY_TAGS, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class MandatoryTagsPresent(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name=f"Resource carries the mandatory tags {', '.join(MANDATORY_TAGS)} (plan JSON)",
            id="CKV_BATCHOPS_11",
            categories=[CheckCategories.CONVENTION],
            supported_resources=["aws_*"],
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        if "tags_all" not in conf:  # .tf source, or a resource type without tags
            return CheckResult.UNKNOWN
        self.evaluated_keys = ["tags_all"]
        tags = value(conf, "tags_all")
        tags = tags if isinstance(tags, dict) else {}
        missing = [t for t in MANDATORY_TAGS if not str(tags.get(t) or "").strip()]
        return CheckResult.FAILED if missing else CheckResult.PASSED


check = MandatoryTagsPresent()
