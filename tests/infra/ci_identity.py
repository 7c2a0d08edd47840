"""The ID tokens GitLab would mint for this repository's CI jobs, from the CI files themselves.

For every job that asks for ``id_tokens`` (after includes, ``!reference`` and ``extends``,
``tests/ci/gitlab_yaml.py``): the account and role its ``AWS_ROLE_VARIABLE`` names, the
``aud`` it requests (``$CI_SERVER_URL`` = the settings' ``gitlab_url``), the refs it runs on
(main; and a feature branch when its rules admit merge-request pipelines) and its environment,
protected or not as ``batchops gitlab configure`` makes it (``gitlab_settings``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "ci"))

from ci_repo import CI_FILES, load  # noqa: E402

from batchops.codeowners import parse  # noqa: E402
from batchops.config import load_settings  # noqa: E402
from batchops.gitlab_settings import desired_settings  # noqa: E402
from batchops.oidc_trust import CiJob, job_claims  # noqa: E402

ACCOUNT_OF_PREFIX = {
    "DATA_SCIENCE": "data-science",
    "STAGING": "staging",
    "PRODUCTION": "production",
}
FEATURE_BRANCH = "feature/new-model"


@dataclass(frozen=True)
class TokenJob:
    """One CI job that assumes an AWS role, with the token facts of one ref it runs on."""

    file: str
    name: str
    account: str
    role_name: str
    audience: str
    job: CiJob

    def claims(self) -> dict[str, str]:
        settings = load_settings(self.account)
        return job_claims(
            settings.gitlab_url, settings.gitlab_project, self.job, audience=self.audience
        )


def _role_name(variable: str, account: str) -> str:
    if variable.endswith("_TF_PLAN_ROLE_ARN"):
        return "batchops-terraform-plan"
    if variable.endswith("_TF_APPLY_ROLE_ARN"):
        return "batchops-terraform-apply"
    return load_settings(account).access_role_name


def _refs(job: dict) -> list[str]:
    rules = " ".join(str(rule.get("if", "")) for rule in job.get("rules") or [])
    refs = ["main"]
    if "merge_request_event" in rules:
        refs.append(FEATURE_BRANCH)
    return refs


def token_jobs() -> list[TokenJob]:
    protected = set(
        desired_settings(parse((ROOT / "CODEOWNERS").read_text(encoding="utf-8"))).environments
    )
    found = []
    for path in CI_FILES:
        for name, job in load(path).jobs.items():
            if "id_tokens" not in job or name.startswith("."):
                continue
            variable = str(job["variables"]["AWS_ROLE_VARIABLE"])
            prefix = variable.split("_TF_", maxsplit=1)[0].removesuffix("_ROLE_ARN")
            account = ACCOUNT_OF_PREFIX[prefix]
            url = load_settings(account).gitlab_url
            audience = str(job["id_tokens"]["AWS_ID_TOKEN"]["aud"]).replace("$CI_SERVER_URL", url)
            environment = job.get("environment") or {}
            if isinstance(environment, str):
                environment = {"name": environment}
            env_name = environment.get("name")
            for ref in _refs(job):
                facts = CiJob(
                    ref=ref,
                    environment=env_name,
                    environment_protected=env_name in protected,
                    deployment_tier=environment.get("deployment_tier"),
                )
                role = _role_name(variable, account)
                found.append(TokenJob(path.name, name, account, role, audience, facts))
    return found
