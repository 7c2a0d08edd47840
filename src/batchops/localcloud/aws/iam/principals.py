"""Who signed a request: a checked principal (an assumed role's session, an IAM user) or
the account's administrator (unchecked, like the root user)."""

from __future__ import annotations

import re
from typing import Any

from batchops.localcloud.aws.iam.policies import Caller

#: sessions of this role are the account's administrator (unchecked, like the root user)
ADMIN_ROLE = "batchops-local-admin"
_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d+/([^/]+)/([^/]+)/")


def _credential(response: Any) -> tuple[str, str, str] | None:
    """(access key id, region, signing service) of the request, or None (unsigned)."""
    headers = response.headers
    match = _SCOPE.search(headers.get("Authorization") or "")
    if match:
        return match.group(1), match.group(2), match.group(3)
    query = getattr(response, "querystring", {}) or {}
    credential = (query.get("X-Amz-Credential") or [""])[0]
    parts = credential.split("/")
    if len(parts) >= 4:
        return parts[0], parts[2], parts[3]
    return None


def checked_caller(response: Any) -> tuple[Caller, Any, str, str] | None:
    """(caller, moto access key, region, signing service) of a checked request, or None
    for an unchecked one (the administrator, the bootstrap, unsigned calls)."""
    from moto.iam.access_control import AssumedRoleAccessKey, IAMUserAccessKey
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    credential = _credential(response)
    if credential is None:
        return None
    key_id, region, service = credential
    account = response.current_account
    partition = get_partition(region)
    for session in list(sts_backends[account][partition].assumed_roles):
        if session.access_key_id == key_id:
            if session.role_arn.rsplit("/", 1)[-1] == ADMIN_ROLE:
                return None
            key = AssumedRoleAccessKey(
                account, partition, key_id, {"X-Amz-Security-Token": session.session_token}
            )
            return Caller(arn=key.arn, account_id=account), key, region, service
    access_key = iam_backends[account][partition].access_keys.get(key_id)
    if access_key is not None and getattr(access_key, "role_arn", None) is None:
        user = IAMUserAccessKey(account, partition, key_id, {})
        return Caller(arn=user.arn, account_id=account), user, region, service
    return None


class RolePolicies:
    """The identity policies of a role named by its ARN, for a service acting as the role
    without a session of it (Lambda decrypting a function's environment as its execution
    role): inline and attached, as moto's ``AssumedRoleAccessKey.collect_policies`` has them."""

    def __init__(self, role_arn: str) -> None:
        self.role_arn = role_arn

    def collect_policies(self) -> list[Any]:
        from moto.iam.models import iam_backends

        parts = self.role_arn.split(":")
        account, name = parts[4], parts[5].rsplit("/", 1)[-1]
        backend = iam_backends[account][parts[1]]
        policies: list[Any] = [
            backend.get_role_policy(name, policy)[1] for policy in backend.list_role_policies(name)
        ]
        attached, _marker = backend.list_attached_role_policies(name)
        return policies + list(attached)

    def session(self, session_name: str) -> Caller:
        """The caller a session ``session_name`` of the role is."""
        parts = self.role_arn.split(":")
        name = parts[5].rsplit("/", 1)[-1]
        return Caller(
            arn=f"arn:{parts[1]}:sts::{parts[4]}:assumed-role/{name}/{session_name}",
            account_id=parts[4],
        )


def boundary_of(key: Any) -> str | None:
    """The permissions boundary of the caller behind ``key`` (moto's access key of a role
    session or user, or :class:`RolePolicies`): its managed policy's default version, or
    None (no boundary, or the role or policy no longer exists)."""
    from moto.iam.models import iam_backends

    try:
        if isinstance(key, RolePolicies):
            parts = key.role_arn.split(":")
            backend = iam_backends[parts[4]][parts[1]]
            entity = backend.get_role(parts[5].rsplit("/", 1)[-1])
        elif hasattr(key, "_owner_role_name"):
            backend = key.backend
            entity = backend.get_role(key._owner_role_name)
        else:
            backend = key.backend
            entity = backend.get_user(key._owner_user_name)
        arn = getattr(entity, "permissions_boundary_arn", None) or getattr(
            entity, "permissions_boundary", None
        )
        if not arn or not isinstance(arn, str):
            return None
        policy = backend.get_policy(arn)
        return next(str(v.document) for v in policy.versions if v.is_default)
    except Exception:
        return None
