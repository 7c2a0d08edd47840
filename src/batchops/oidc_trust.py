"""What GitLab puts in a CI job's ID token, and whether an IAM role's trust policy accepts it.

Two documented facts meet here:

* GitLab mints ``aud`` as the job asks (``id_tokens: AWS_ID_TOKEN: aud: $CI_SERVER_URL``) and
  ``sub`` from the project's ``ci_id_token_sub_claim_components``, each component written as
  ``<claim>:<value>`` and joined with ``:`` (docs.gitlab.com, "OpenID Connect (OIDC)
  Authentication Using ID Tokens"; projects API). :data:`SUB_CLAIM_COMPONENTS` is what
  ``batchops gitlab configure`` sets.
* For an IAM OIDC provider AWS evaluates only ``<issuer host>:aud`` and ``<issuer host>:sub``
  (IAM User Guide, "Available keys for AWS web identity federation"), and a token is
  accepted only when its ``aud`` is one of the provider's client ids
  (CreateOpenIDConnectProvider).

Assumption, where GitLab's documentation is silent: a component whose claim a job does not
have (``environment_protected`` and ``deployment_tier`` exist only for jobs with an
``environment``) is left out of ``sub``. The trust policies accept ``...:ref:main`` and
``...:ref:main:*`` for ungated roles and require the components for gated ones, so either
rendering is safe: a gated role fails closed.

``doctor`` and the tests use this to ask "could the production deploy job assume this role,
and could a job outside the protected environment?" against the roles as deployed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: ``ci_id_token_sub_claim_components`` as ``batchops gitlab configure`` sets them. GitLab
#: requires ``project_path`` (or ``project_id``) first; the Terraform trust policies
#: (shared-modules/gitlab-oidc-trust) build their subjects in this order.
SUB_CLAIM_COMPONENTS: tuple[str, ...] = (
    "project_path",
    "ref_type",
    "ref",
    "environment_protected",
    "deployment_tier",
)
WEB_IDENTITY = "sts:AssumeRoleWithWebIdentity"


@dataclass(frozen=True)
class CiJob:
    """The facts about a CI job that its ID token carries."""

    ref: str = "main"
    ref_type: str = "branch"
    environment: str | None = None
    environment_protected: bool = False
    deployment_tier: str | None = None


def issuer_host(gitlab_url: str) -> str:
    """The prefix of the claim condition keys: the issuer URL without ``https://``."""
    return re.sub(r"^https?://", "", gitlab_url.rstrip("/"))


def job_claims(
    gitlab_url: str,
    project_path: str,
    job: CiJob,
    *,
    audience: str | None = None,
    components: tuple[str, ...] = SUB_CLAIM_COMPONENTS,
) -> dict[str, str]:
    """The claims of the ID token GitLab would mint for ``job`` (``aud`` default: the URL)."""
    claims: dict[str, str] = {
        "iss": gitlab_url.rstrip("/"),
        "aud": audience or gitlab_url.rstrip("/"),
        "project_path": project_path,
        "ref": job.ref,
        "ref_type": job.ref_type,
    }
    if job.environment is not None:
        claims["environment"] = job.environment
        claims["environment_protected"] = "true" if job.environment_protected else "false"
        if job.deployment_tier:
            claims["deployment_tier"] = job.deployment_tier
    claims["sub"] = ":".join(f"{name}:{claims[name]}" for name in components if name in claims)
    return claims


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _like(pattern: str, value: str) -> bool:
    """IAM StringLike: ``*`` any run of characters, ``?`` one character, case-sensitive."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.S) is not None


_OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _like,
}


def _condition_holds(operator: str, key: str, expected: Any, context: dict[str, str]) -> bool:
    """One operator/key of a Condition block, as IAM evaluates it (unknown: False)."""
    negated = operator.startswith("StringNot")
    base = operator.replace("Not", "", 1) if negated else operator
    test = _OPERATORS.get(base)
    if test is None:
        return False  # an operator we do not model never counts as satisfied
    if key not in context:
        # AWS: a missing key fails a positive operator and satisfies a negated one.
        return negated
    matched = any(test(str(pattern), context[key]) for pattern in _as_list(expected))
    return not matched if negated else matched


def _statement_matches(
    statement: dict[str, Any], provider_arn: str, context: dict[str, str]
) -> bool:
    if WEB_IDENTITY not in _as_list(statement.get("Action", [])):
        return False
    federated = (statement.get("Principal") or {}).get("Federated")
    if provider_arn not in _as_list(federated):
        return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, expected in keys.items():
            if not _condition_holds(operator, key, expected, context):
                return False
    return True


def trust_refusal(
    trust_policy: dict[str, Any],
    claims: dict[str, str],
    *,
    provider_arn: str,
    provider_client_ids: list[str] | None = None,
) -> str | None:
    """None when STS would let a token with ``claims`` assume the role, else why not."""
    if provider_client_ids is not None and claims["aud"] not in provider_client_ids:
        return (
            f"the OIDC provider's client ids {sorted(provider_client_ids)} do not include "
            f"the token's aud {claims['aud']!r}"
        )
    host = issuer_host(claims["iss"])
    context = {f"{host}:{name}": value for name, value in claims.items() if name in ("aud", "sub")}
    statements = _as_list(trust_policy.get("Statement", []))
    if any(
        s.get("Effect") == "Deny" and _statement_matches(s, provider_arn, context)
        for s in statements
    ):
        return "an explicit Deny in the trust policy matches the token"
    if any(
        s.get("Effect") == "Allow" and _statement_matches(s, provider_arn, context)
        for s in statements
    ):
        return None
    return f"no statement trusts {provider_arn} for aud={claims['aud']!r} sub={claims['sub']!r}"
