"""Lambda's decryption of a function's environment before it runs (its customer managed key,
as the execution role): shared by ``Invoke`` and the event router's Lambda targets."""

from __future__ import annotations

from typing import Any

from batchops.localcloud.aws.context import current_cloud_or_none
from batchops.localcloud.aws.events.targets.errors import FunctionError


class EnvironmentKeyError(FunctionError):
    """Lambda could not decrypt the function's environment: the invocation fails (Invoke
    answers 502 with the error; an asynchronous invocation is retried as a failed one)."""

    status = 502

    def __init__(self, code: str, message: str) -> None:
        super().__init__(RuntimeError(f"{code}: {message}"))
        self.code = code
        self.message = message


def _customer_key(function: Any) -> str | None:
    key = getattr(function, "kms_key_arn", None)
    return str(key) if key else None


def environment_refusal(function: Any) -> EnvironmentKeyError | None:
    """Why Lambda could not decrypt ``function``'s environment as its execution role, or None
    (no customer managed key, enforcement off, or the role may use the key)."""
    from batchops.localcloud.aws.iam.authorization import (
        enforcing,
        key_use_refusal,
    )
    from batchops.localcloud.aws.iam.principals import RolePolicies
    from batchops.localcloud.aws.kms.grants import key_of

    key_id = _customer_key(function)
    cloud = current_cloud_or_none()
    if key_id is None or cloud is None or not enforcing(cloud):
        return None
    kms_key = key_of(key_id, account=function.account_id, region=function.region)
    if kms_key is None:
        return EnvironmentKeyError(
            "KMSNotFoundException",
            "Lambda was unable to decrypt the environment variables because the KMS key was "
            "not found. Please check the function's KMS key settings.",
        )
    if not kms_key.enabled:
        return EnvironmentKeyError(
            "KMSDisabledException",
            "Lambda was unable to decrypt the environment variables because the KMS key used "
            "is disabled. Please check the function's KMS key settings.",
        )
    role = RolePolicies(str(function.role))
    refusal = key_use_refusal(
        role.session(function.function_name),
        role,
        kms_key.arn,
        owner=function.account_id,
        region=function.region,
        kms_action="kms:Decrypt",
        service="lambda",
        encryption_context={"aws:lambda:FunctionArn": function.function_arn},
    )
    if refusal is None:
        return None
    return EnvironmentKeyError(
        "KMSAccessDeniedException",
        "Lambda was unable to decrypt the environment variables because KMS access was "
        "denied. Please check the function's KMS key settings. KMS Exception: "
        f"AccessDeniedExceptionKMS Message: {refusal}",
    )
