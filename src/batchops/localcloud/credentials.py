"""Credentials for one account of the local cloud: its administrator, or one of its roles.

The administrator of an account is a session of the role ``batchops-local-admin``
(:data:`batchops.localcloud.aws.iam.principals.ADMIN_ROLE`), assumed with the local cloud's
static key: unchecked, like an account's root user. A role's credentials are a session of
that role assumed through STS by the administrator, so the role's policies apply to them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from batchops.errors import CloudError, ConfigError
from batchops.localcloud.aws.iam.principals import ADMIN_ROLE

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.config import Settings


def admin_clients(
    settings: Settings, endpoint: str, session_name: str = "batchops-admin"
) -> Clients:
    """Clients acting as the administrator of ``settings``' account (unchecked, like root)."""
    from batchops.aws import Clients

    return Clients(
        region=settings.region,
        endpoint=endpoint,
        role_arn=f"arn:aws:iam::{settings.account_id}:role/{ADMIN_ROLE}",
        account_id=settings.account_id,
        session_name=session_name,
    )


def _assume(sts: Any, role_arn: str, session: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
    except ClientError as exc:
        raise CloudError(
            f"cannot assume {role_arn}: {exc.response['Error'].get('Message')}"
        ) from None
    return dict(creds)


def account_credentials(
    endpoint: str, settings: Settings, role: str | None = None
) -> dict[str, Any]:
    """STS ``Credentials`` (plus ``Account``) of the administrator or of role ``role``."""
    import boto3

    from batchops.aws import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, check_reachable

    check_reachable(endpoint)
    base = boto3.Session(
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
        region_name=settings.region,
    )
    sts = base.client("sts", endpoint_url=endpoint)
    admin = _assume(sts, f"arn:aws:iam::{settings.account_id}:role/{ADMIN_ROLE}", "batchops-admin")
    creds = admin
    if role is not None:
        session = boto3.Session(
            aws_access_key_id=admin["AccessKeyId"],
            aws_secret_access_key=admin["SecretAccessKey"],
            aws_session_token=admin["SessionToken"],
            region_name=settings.region,
        )
        iam = session.client("iam", endpoint_url=endpoint)
        try:
            role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        except iam.exceptions.NoSuchEntityException:
            raise ConfigError(
                f"role {role!r} does not exist in account {settings.account_id} "
                f"({settings.environment})"
            ) from None
        creds = _assume(
            session.client("sts", endpoint_url=endpoint), role_arn, f"batchops-{role}"[:64]
        )
    return {
        "AccessKeyId": creds["AccessKeyId"],
        "SecretAccessKey": creds["SecretAccessKey"],
        "SessionToken": creds["SessionToken"],
        "Expiration": creds["Expiration"].isoformat()
        if hasattr(creds["Expiration"], "isoformat")
        else str(creds["Expiration"]),
        "Account": settings.account_id,
    }
