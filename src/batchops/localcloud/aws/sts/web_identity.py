"""``AssumeRoleWithWebIdentity`` checked against the account's OIDC provider and the role's
trust policy, as STS checks it (moto accepts any token for any role).

With the local cloud enforcing permissions (:func:`batchops.localcloud.aws.iam.authorization.
enforcing`), the token must be a JWT whose ``exp`` is in the future
(``ExpiredTokenException``), whose ``iss`` is the URL of an OIDC provider registered in the
role's account and whose ``aud`` is one of that provider's client ids
(``InvalidIdentityToken``); then the role's trust policy must allow
``sts:AssumeRoleWithWebIdentity`` for ``Principal.Federated`` = that provider, its
conditions evaluated on the token's claims as ``HOST/PATH:aud`` and ``HOST/PATH:sub``
(``AccessDenied`` otherwise). The token's signature is checked against the keys of its
issuer, as STS fetches them from ``<iss>/.well-known/openid-configuration``: the local cloud
knows the keys of the identity providers registered in ``LocalCloud.identity_providers``
(the GitLab stand-in registers its own); an issuer it cannot reach, an unsigned token or a
bad signature is ``InvalidIdentityToken``.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

from batchops.localcloud.aws.context import current_cloud_or_none
from batchops.localcloud.aws.iam.policies import Caller, Policy, Request


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def signature_valid(token: str, jwks: dict[str, Any]) -> bool:
    """Whether ``token`` is an RS256 JWT signed by a key of ``jwks`` (its ``kid``)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    parts = token.split(".")
    if len(parts) != 3:
        return False
    try:
        header = json.loads(_unb64(parts[0]))
        signature = _unb64(parts[2])
    except (ValueError, TypeError):
        return False
    if not isinstance(header, dict) or header.get("alg") != "RS256":
        return False  # "none" and the HMAC algorithms never verify against a public key
    for key in jwks.get("keys", []):
        if key.get("kty") != "RSA" or (header.get("kid") and key.get("kid") != header["kid"]):
            continue
        public = rsa.RSAPublicNumbers(
            int.from_bytes(_unb64(key["e"]), "big"), int.from_bytes(_unb64(key["n"]), "big")
        ).public_key()
        try:
            public.verify(
                signature, f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            continue
        return True
    return False


def _claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(_unb64(parts[1]))
        json.loads(_unb64(parts[0]))
    except (ValueError, TypeError):
        return None
    return claims if isinstance(claims, dict) else None


def check(role_arn: str, token: str) -> None:
    """Raise STS's error unless ``token`` may assume ``role_arn``."""
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSClientError

    claims = _claims(token or "")
    if claims is None:
        raise STSClientError("InvalidIdentityToken", "The ID Token provided is not a valid JWT.")
    now = time.time()
    if not isinstance(claims.get("exp"), int | float) or claims["exp"] <= now:
        raise STSClientError(
            "ExpiredTokenException",
            "Token expired: current date/time "
            f"{int(now)} must be before the expiration date/time "
            f"{claims.get('exp')}",
        )
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    issuer = str(claims.get("iss", ""))
    host_path = issuer.removeprefix("https://").rstrip("/")
    backend = iam_backends[account]["aws"]
    provider = next(
        (
            p
            for p in backend.open_id_providers.values()
            if p.url.removeprefix("https://").rstrip("/") == host_path
        ),
        None,
    )
    if provider is None:
        raise STSClientError(
            "InvalidIdentityToken",
            f"No OpenIDConnect provider found in your account for {issuer}",
        )
    audiences = claims.get("aud")
    audiences = [audiences] if isinstance(audiences, str) else list(audiences or [])
    if not set(audiences) & set(provider.client_id_list):
        raise STSClientError("InvalidIdentityToken", "Incorrect token audience")
    cloud = current_cloud_or_none()
    keys = (getattr(cloud, "identity_providers", None) or {}).get(issuer.rstrip("/"))
    if keys is None:
        raise STSClientError(
            "InvalidIdentityToken",
            "Couldn't retrieve verification key from your identity provider, please reference "
            "AssumeRoleWithWebIdentity documentation for requirements",
        )
    if not signature_valid(token, keys()):
        raise STSClientError(
            "InvalidIdentityToken",
            "The web identity token that was passed could not be validated by AWS. Get a new "
            "identity token from the identity provider and then retry the request.",
        )
    try:
        role = backend.get_role_by_arn(role_arn)
    except Exception:  # STS answers AccessDenied for a role it cannot assume
        role = None
    request = Request(
        caller=Caller(arn=provider.arn, account_id=account),
        action="sts:AssumeRoleWithWebIdentity",
        resource=role_arn,
        context={
            f"{host_path}:aud": audiences,
            f"{host_path}:sub": str(claims.get("sub", "")),
        },
    )
    allowed = False
    if role is not None:
        for statement in Policy(role.assume_role_policy_document).statements:
            principal = statement._statement.get("Principal")
            federated = principal.get("Federated") if isinstance(principal, dict) else None
            names = [federated] if isinstance(federated, str) else list(federated or [])
            if provider.arn not in names or not statement.applies(request):
                continue
            if statement.denies:
                allowed = False
                break
            allowed = True
    if not allowed:
        raise STSClientError(
            "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"
        )


def install() -> None:
    from moto.sts.responses import TokenResponse

    if getattr(TokenResponse, "_batchops_web_identity", False):
        return
    original = TokenResponse.assume_role_with_web_identity

    def assume_role_with_web_identity(self: Any) -> Any:
        from batchops.localcloud.aws.iam.authorization import enforcing

        cloud = current_cloud_or_none()
        if cloud is not None and enforcing(cloud):
            check(self._get_param("RoleArn"), self._get_param("WebIdentityToken"))
        return original(self)

    TokenResponse.assume_role_with_web_identity = assume_role_with_web_identity  # type: ignore[method-assign]
    TokenResponse._batchops_web_identity = True  # type: ignore[attr-defined]
