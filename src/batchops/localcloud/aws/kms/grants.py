"""KMS grants, as KMS honours them when it authorizes a request.

A grant lets its grantee principal use one key for the grant's operations, beside the key
policy and IAM policies (KMS developer guide, "Grants in AWS KMS"): a principal whose
policies do not allow ``kms:Decrypt`` may still decrypt through a grant. An explicit Deny
in a policy still wins. The grant's constraints (``EncryptionContextEquals``,
``EncryptionContextSubset``) apply only to cryptographic operations; in a constraint the
encryption context's keys are compared without case, its values with case.

AWS services create grants for the resources they encrypt: Lambda creates one for a
function's execution role when the function's environment is encrypted with a customer
managed key (:func:`ensure_service_grant`). A direct ``CreateGrant`` names the key by key id
or key ARN only: an alias is refused with ``InvalidArnException``, as KMS refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from batchops.localcloud.aws.iam.policies import Caller

#: the operations a grant's encryption-context constraint applies to (symmetric crypto)
_CRYPTOGRAPHIC = frozenset(
    {
        "Decrypt",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "ReEncryptFrom",
        "ReEncryptTo",
    }
)
ALIAS_REFUSAL = ("InvalidArnException", "Key Aliases are not supported for this operation.")


def is_alias(key_id: str) -> bool:
    """Whether ``key_id`` names an alias (``alias/NAME`` or an alias ARN)."""
    return key_id.startswith("alias/") or ":alias/" in key_id


def _folded(context: Mapping[str, str]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in context.items()}


def constraints_hold(
    constraints: Mapping[str, Any] | None, operation: str, context: Mapping[str, str] | None
) -> bool:
    """Whether a grant's constraints let ``operation`` run with encryption ``context``."""
    if not constraints or operation not in _CRYPTOGRAPHIC:
        return True
    request = _folded(context or {})
    equals = constraints.get("EncryptionContextEquals")
    if equals is not None and _folded(equals) != request:
        return False
    subset = constraints.get("EncryptionContextSubset")
    return subset is None or all(request.get(k) == v for k, v in _folded(subset).items())


def grant_allows(
    kms_key: Any, caller: Caller, operation: str, context: Mapping[str, str] | None = None
) -> bool:
    """Whether a grant on ``kms_key`` lets ``caller`` (its role or session ARN) run
    ``operation`` (``"Decrypt"``, without the ``kms:`` prefix)."""
    principals = {caller.arn, caller.role_arn}
    for grant in list(getattr(kms_key, "grants", {}).values()):
        if grant.grantee_principal not in principals or operation not in (grant.operations or []):
            continue
        if constraints_hold(grant.constraints, operation, context):
            return True
    return False


def key_of(key_id: str, *, account: str, region: str) -> Any | None:
    """moto's key for a key id, key ARN or alias (in ``account``/``region`` unless the ARN
    says otherwise), or None when there is no such key."""
    from moto.kms.models import kms_backends

    match = re.match(r"arn:aws[^:]*:kms:([^:]+):(\d+):", key_id)
    if match:
        region, account = match.group(1), match.group(2)
    backend = kms_backends[account][region]
    try:
        return backend.describe_key(backend.any_id_to_key_id(key_id))
    except Exception:
        return None


def ensure_service_grant(
    kms_key: Any,
    *,
    grantee: str,
    operations: list[str],
    constraints: dict[str, Any],
    name: str,
    retiring_principal: str,
) -> None:
    """The grant an AWS service creates for a resource it encrypts (once per grantee,
    operations and constraints: recreating the resource does not pile grants up)."""
    for grant in list(kms_key.grants.values()):
        if (
            grant.grantee_principal == grantee
            and grant.operations == operations
            and grant.constraints == constraints
        ):
            return
    kms_key.add_grant(name, grantee, operations, constraints, retiring_principal)


def install() -> None:
    """``CreateGrant`` refuses an alias as KMS does (moto resolves it)."""
    from moto.core.exceptions import JsonRESTError
    from moto.kms.responses import KmsResponse

    original = KmsResponse.create_grant

    def create_grant(self: Any) -> str:
        key_id = self._get_param("KeyId")
        if isinstance(key_id, str) and is_alias(key_id):
            raise JsonRESTError(*ALIAS_REFUSAL)
        return str(original(self))

    KmsResponse.create_grant = create_grant  # type: ignore[method-assign]
