"""The ID-token subject GitLab is configured to mint and the one the trust policies expect
are the same, component for component (one fact in two languages: Python for
`batchops gitlab configure`, HCL for the roles)."""

from __future__ import annotations

import re

from module_docs import ROOT

from batchops.gitlab_settings import PROJECT_CI_SETTINGS
from batchops.oidc_trust import SUB_CLAIM_COMPONENTS, CiJob, job_claims

TRUST = ROOT / "shared-modules" / "gitlab-oidc-trust" / "main.tf"


def test_settings_as_code_configure_the_components_the_trust_module_assumes() -> None:
    assert PROJECT_CI_SETTINGS["ci_id_token_sub_claim_components"] == list(SUB_CLAIM_COMPONENTS)
    text = TRUST.read_text(encoding="utf-8")
    base = re.search(r'"project_path:\$\{var\.gitlab_project_path\}:ref_type:\$\{r\.ref_type\}'
                     r':ref:\$\{r\.ref\}"', text)  # fmt: skip
    gate = re.search(r'"\$\{base\}:environment_protected:true:deployment_tier:'
                     r'\$\{var\.protected_environment_tier\}"', text)  # fmt: skip
    assert base and gate, "the trust module no longer builds the subject this test knows"
    claims = job_claims(
        "https://gitlab.example.com",
        "ml/batchops",
        CiJob(environment="production", environment_protected=True, deployment_tier="production"),
    )
    rendered = (
        "project_path:ml/batchops:ref_type:branch:ref:main"
        ":environment_protected:true:deployment_tier:production"
    )
    assert claims["sub"] == rendered
