"""GitLab CI/CD ID tokens: RS256 JWTs signed by the GitLab stand-in, verified by the local STS.

GitLab mints one token per entry of a job's ``id_tokens`` (its ``aud`` as the entry asks)
and publishes its signing keys as a JWKS at ``<issuer>/oauth/discovery/keys`` (announced by
``/.well-known/openid-configuration``); AWS STS checks a token's signature against the keys
of the OIDC provider's issuer. The stand-in does the same with a key pair made when it starts
(tokens outlive no restart of GitLab's keys either: a job's token lives 5 minutes by default
here, GitLab's lives as long as the job's timeout).

Claims: what GitLab documents for ID tokens — ``iss``, ``aud``, ``sub`` (the project's
``ci_id_token_sub_claim_components``), ``iat``/``nbf``/``exp``, ``jti``, ``namespace_path``,
``project_path``, ``project_id``, ``user_login``, ``pipeline_id``, ``pipeline_source``,
``job_id``, ``ref``, ``ref_type``, ``ref_path``, ``ref_protected``, ``environment``,
``environment_protected``, ``deployment_tier``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _int_bytes(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class IdTokenIssuer:
    """Signs ID tokens for ``issuer`` (GitLab's URL, e.g. ``https://gitlab.example.com``)."""

    def __init__(self, issuer: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.issuer = issuer.rstrip("/")
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self._key.public_key().public_numbers()
        self._jwk = {
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": _b64(_int_bytes(numbers.n)),
            "e": _b64(_int_bytes(numbers.e)),
        }
        self._jwk["kid"] = _b64(
            hashlib.sha256(json.dumps(self._jwk, sort_keys=True).encode()).digest()
        )[:43]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/oauth/discovery/keys",
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
        }

    def mint(self, claims: dict[str, Any], *, lifetime_s: int = 300) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        now = int(time.time())
        body = {
            "iss": self.issuer,
            **claims,
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime_s,
            "jti": str(uuid.uuid4()),
        }
        header = {"alg": "RS256", "typ": "JWT", "kid": self._jwk["kid"]}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(body).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"
