"""The ID-token model and the IAM trust evaluation doctor and the infra tests rely on."""

from __future__ import annotations

from batchops.oidc_trust import CiJob, job_claims, trust_refusal

URL = "https://gitlab.example.com"
PROVIDER = "arn:aws:iam::333333333333:oidc-provider/gitlab.example.com"


def policy(subjects: list[str], audience: str = URL) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {"gitlab.example.com:aud": audience},
                    "StringLike": {"gitlab.example.com:sub": subjects},
                },
            }
        ],
    }


PRODUCTION_JOB = CiJob(
    environment="production", environment_protected=True, deployment_tier="production"
)
GATED = policy(
    [
        "project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:production"
    ]
)


def test_sub_follows_the_configured_components_in_order() -> None:
    claims = job_claims(URL, "ml/batchops", PRODUCTION_JOB)
    assert claims["sub"] == (
        "project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:"
        "deployment_tier:production"
    )
    assert claims["aud"] == URL
    plain = job_claims(URL, "ml/batchops", CiJob())
    assert plain["sub"] == "project_path:ml/batchops:ref_type:branch:ref:main"


def test_only_the_protected_production_job_passes_the_gate() -> None:
    assert (
        trust_refusal(GATED, job_claims(URL, "ml/batchops", PRODUCTION_JOB), provider_arn=PROVIDER)
        is None
    )
    unprotected = CiJob(
        environment="production", environment_protected=False, deployment_tier="production"
    )
    for job in (CiJob(), unprotected, CiJob(environment="staging", deployment_tier="staging")):
        assert trust_refusal(GATED, job_claims(URL, "ml/batchops", job), provider_arn=PROVIDER)


def test_string_like_wildcards_cover_the_ref_but_not_other_branches() -> None:
    trust = policy(
        [
            "project_path:ml/batchops:ref_type:branch:ref:main",
            "project_path:ml/batchops:ref_type:branch:ref:main:*",
        ]
    )
    assert (
        trust_refusal(trust, job_claims(URL, "ml/batchops", CiJob()), provider_arn=PROVIDER) is None
    )
    assert (
        trust_refusal(trust, job_claims(URL, "ml/batchops", PRODUCTION_JOB), provider_arn=PROVIDER)
        is None
    )
    assert trust_refusal(
        trust, job_claims(URL, "ml/batchops", CiJob(ref="main-x")), provider_arn=PROVIDER
    )
    assert trust_refusal(trust, job_claims(URL, "ml/other", CiJob()), provider_arn=PROVIDER)


def test_audience_must_match_the_trust_and_the_provider_client_ids() -> None:
    claims = job_claims(URL, "ml/batchops", CiJob())
    sts_audience = policy(
        ["project_path:ml/batchops:ref_type:branch:ref:main"], audience="sts.amazonaws.com"
    )
    assert "aud" in str(trust_refusal(sts_audience, claims, provider_arn=PROVIDER))
    trust = policy(["project_path:ml/batchops:ref_type:branch:ref:main"])
    refusal = trust_refusal(
        trust, claims, provider_arn=PROVIDER, provider_client_ids=["sts.amazonaws.com"]
    )
    assert refusal is not None and "client ids" in refusal
    assert trust_refusal(trust, claims, provider_arn=PROVIDER, provider_client_ids=[URL]) is None


def test_another_provider_unknown_operators_and_denies_refuse() -> None:
    claims = job_claims(URL, "ml/batchops", CiJob())
    trust = policy(["project_path:ml/batchops:*"])
    assert trust_refusal(trust, claims, provider_arn=PROVIDER.replace("333", "444")) is not None
    odd = policy(["x"])
    odd["Statement"][0]["Condition"] = {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}
    assert trust_refusal(odd, claims, provider_arn=PROVIDER) is not None
    deny = policy(["project_path:ml/batchops:*"])
    deny["Statement"].append({**deny["Statement"][0], "Effect": "Deny"})
    assert "Deny" in str(trust_refusal(deny, claims, provider_arn=PROVIDER))
