"""CI jobs authenticate as GitLab jobs do on AWS (issue 14, item 3): the GitLab stand-in mints
each job signed ID tokens for the audiences its ``id_tokens`` ask for, with GitLab's claims;
the job assumes its role with ``AssumeRoleWithWebIdentity``; STS checks the signature, the
OIDC provider and the role's trust policy (the one Terraform declares)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.aws import clients_for
from batchops.config import load_settings
from batchops.errors import CloudError
from batchops.localcloud.gitlab.ci_jobs import PlannedJob, plan_trigger
from batchops.localcloud.server import LocalCloud

REPO = Path(__file__).resolve().parents[2]
ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/3"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    started = start_local_cloud(
        state_dir=Path(tmp_path_factory.mktemp("id-tokens")),
        options={"persist": False, "authorization": "enforce", "gitlab_run_jobs": False},
    )
    try:
        yield started
    finally:
        started.stop()


def _job(environment: str) -> PlannedJob:
    plan = plan_trigger(REPO, {"MODEL_PACKAGE_ARN": ARN, "DEPLOY_ENV": environment})
    return {job.name: job for job in plan.jobs}[f"deploy-{environment}"]


def _token(cloud: LocalCloud, job: PlannedJob, *, ref: str = "main", **changes: str) -> str:
    assert cloud.gitlab is not None
    audience = job.id_tokens["AWS_ID_TOKEN"].replace("$CI_SERVER_URL", cloud.gitlab.issuer)
    claims = cloud.gitlab.job_claims(7, 42, job, ref, audience)
    claims.update(changes)
    return cloud.gitlab.id_tokens.mint(claims)


def _as_job(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, env: str, token: str) -> None:
    """A CI job's environment, as GitLab's ``.aws-oidc`` template leaves it."""
    path = tmp_path / f"token-{env}"
    path.write_text(token, encoding="utf-8")
    monkeypatch.setenv("AWS_ROLE_ARN", load_settings(env).access_role_arn)
    monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(path))
    monkeypatch.setenv("AWS_ROLE_SESSION_NAME", f"gitlab-1-{env}")


def test_a_deploy_job_asks_for_a_token_whose_audience_is_the_gitlab_url(cloud: LocalCloud) -> None:
    for environment in ("staging", "production"):
        job = _job(environment)
        assert job.id_tokens == {"AWS_ID_TOKEN": "$CI_SERVER_URL"}
        assert job.deployment_tier == environment


def test_the_stand_in_publishes_its_signing_keys_as_gitlab_does(cloud: LocalCloud) -> None:
    assert cloud.gitlab is not None
    with urllib.request.urlopen(f"{cloud.gitlab.url}/.well-known/openid-configuration") as r:
        discovery = json.load(r)
    assert discovery["issuer"] == load_settings("staging").gitlab_url.rstrip("/")
    assert discovery["jwks_uri"].endswith("/oauth/discovery/keys")
    with urllib.request.urlopen(f"{cloud.gitlab.url}/oauth/discovery/keys") as r:
        (key,) = json.load(r)["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]


def test_a_jobs_token_carries_gitlabs_claims(cloud: LocalCloud) -> None:
    assert cloud.gitlab is not None
    claims = cloud.gitlab.job_claims(
        7, 42, _job("production"), "main", "https://gitlab.example.com"
    )
    assert claims["sub"] == (
        "project_path:ml/batchops:ref_type:branch:ref:main:"
        "environment_protected:true:deployment_tier:production"
    )
    assert claims["ref_protected"] == "true" and claims["environment"] == "production"
    assert claims["pipeline_source"] == "trigger" and claims["project_path"] == "ml/batchops"
    assert claims["job_id"] == "42" and claims["pipeline_id"] == "7"


def test_each_deploy_job_assumes_its_accounts_role_with_its_token(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for env in ("staging", "production"):
        _as_job(monkeypatch, tmp_path, env, _token(cloud, _job(env)))
        identity = clients_for(load_settings(env), cloud.endpoint).client("sts")
        arn = identity.get_caller_identity()["Arn"]
        assert arn == (
            f"arn:aws:sts::{load_settings(env).account_id}:assumed-role/batchops-deploy/"
            f"gitlab-1-{env}"
        )


@pytest.mark.parametrize(
    "why, job_env, ref, changes, code",
    [
        ("a staging job's token for production", "staging", "main", {}, "AccessDenied"),
        ("an unprotected ref", "production", "feature", {}, "AccessDenied"),
        (
            "another project",
            "production",
            "main",
            {
                "sub": "project_path:other/project:ref_type:branch:ref:main:"
                "environment_protected:true:deployment_tier:production"
            },
            "AccessDenied",
        ),
        (
            "a wrong audience",
            "production",
            "main",
            {"aud": "sts.amazonaws.com"},
            "InvalidIdentityToken",
        ),
    ],
)
def test_the_production_role_refuses_what_its_trust_policy_does_not_name(
    cloud: LocalCloud,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    why: str,
    job_env: str,
    ref: str,
    changes: dict[str, str],
    code: str,
) -> None:
    token = _token(cloud, _job(job_env), ref=ref, **changes)
    _as_job(monkeypatch, tmp_path, "production", token)
    clients = clients_for(load_settings("production"), cloud.endpoint)
    with pytest.raises(CloudError, match=f"with the job's ID token: {code}") as refused:
        clients.client("sts").get_caller_identity()
    assert "batchops-deploy" in str(refused.value), why


def test_a_token_not_signed_by_the_gitlab_is_refused(
    cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from batchops.localcloud.gitlab.id_tokens import IdTokenIssuer

    assert cloud.gitlab is not None
    forger = IdTokenIssuer(cloud.gitlab.issuer)  # the right issuer URL, not its key
    job = _job("staging")
    claims = cloud.gitlab.job_claims(7, 42, job, "main", cloud.gitlab.issuer)
    _as_job(monkeypatch, tmp_path, "staging", forger.mint(claims))
    with pytest.raises(CloudError, match="InvalidIdentityToken: The web identity token"):
        clients_for(load_settings("staging"), cloud.endpoint).client("sts").get_caller_identity()
