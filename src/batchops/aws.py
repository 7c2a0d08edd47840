"""The one factory every AWS client in batchops comes from.

Product code asks for ``clients.client("s3")`` on a :class:`Clients` built for an
environment; it never knows whether the endpoint is AWS or the local cloud:

* with an endpoint (``--endpoint`` / ``BATCHOPS_ENDPOINT``) every client talks to it,
  and the account is selected exactly as on AWS: ``sts:AssumeRole`` into the
  environment's access role;
* without one, boto3's normal credential chain is used (GitLab OIDC web identity in CI,
  SSO profiles on a laptop); when those credentials belong to another account, the
  environment's access role is assumed.

Retries use botocore's ``standard`` mode (exponential backoff with jitter on throttling
and 5xx), so callers do not hand-roll retry loops.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from batchops.errors import CloudError

if TYPE_CHECKING:
    import boto3

    from batchops.config import Settings

ENDPOINT_ENV = "BATCHOPS_ENDPOINT"
#: Dummy credentials for the local cloud; they select no account by themselves.
LOCAL_ACCESS_KEY = "batchopslocal"
LOCAL_SECRET_KEY = "batchopslocal"


def endpoint_from(value: str | None = None) -> str | None:
    """The endpoint given on the command line, else ``BATCHOPS_ENDPOINT``, else
    ``AWS_ENDPOINT_URL`` (the AWS CLI's and SDKs' variable), else None (AWS)."""
    endpoint = value or os.environ.get(ENDPOINT_ENV) or os.environ.get("AWS_ENDPOINT_URL") or None
    return endpoint.rstrip("/") if endpoint else None


def check_reachable(endpoint: str, timeout: float = 2.0) -> None:
    """Fail with one clear line when nothing listens at ``endpoint``."""
    parsed = urlparse(endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CloudError(f"endpoint {endpoint!r} is not a URL like http://127.0.0.1:PORT")
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return
    except OSError:
        raise CloudError(
            f"local cloud not reachable at {endpoint} (start it with 'batchops local up' "
            f"and pass the endpoint it prints)"
        ) from None


def boto3_session(**kwargs: Any) -> boto3.Session:
    """``boto3.Session(**kwargs)`` on the process's shared botocore data loader
    (:mod:`batchops.boto_sessions`)."""
    from batchops.boto_sessions import session

    return session(**kwargs)


def _botocore_config(**extra: Any) -> Any:
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": 6},
        connect_timeout=5,
        read_timeout=120,
        **extra,
    )


@dataclass
class Clients:
    """AWS clients for one account (environment), created lazily and cached."""

    region: str
    endpoint: str | None = None
    role_arn: str | None = None
    account_id: str | None = None
    session_name: str = "batchops"
    #: AWS named profile of the base credentials (AWS only; the local cloud needs none)
    profile: str | None = None
    _session: Any = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_local(self) -> bool:
        return self.endpoint is not None

    def session(self) -> boto3.Session:
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _base_session(self) -> boto3.Session:
        if self.is_local:
            return boto3_session(
                aws_access_key_id=LOCAL_ACCESS_KEY,
                aws_secret_access_key=LOCAL_SECRET_KEY,
                region_name=self.region,
            )
        from botocore.exceptions import ProfileNotFound

        try:
            return boto3_session(region_name=self.region, profile_name=self.profile)
        except ProfileNotFound:
            raise CloudError(
                f"AWS profile {self.profile!r} not found in ~/.aws/config or ~/.aws/credentials"
            ) from None

    def _make_session(self) -> boto3.Session:
        from botocore.exceptions import BotoCoreError, ClientError

        base = self._base_session()
        if self.role_arn is None:
            return base
        if self.endpoint:
            check_reachable(self.endpoint)
        sts = base.client("sts", endpoint_url=self.endpoint, config=_botocore_config())
        if self.is_local:
            web = self._web_identity_session(sts)
            if web is not None:
                base, holds = web
                if holds:
                    return base  # the job's role is this account's (OIDC), as on AWS
                sts = base.client("sts", endpoint_url=self.endpoint, config=_botocore_config())
        try:
            if not self.is_local and self.account_id:
                current = sts.get_caller_identity()["Account"]
                if current == self.account_id:
                    return base  # CI already holds this account's role (OIDC)
            creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName=self.session_name)[
                "Credentials"
            ]
        except ClientError as exc:
            raise CloudError(
                f"cannot assume role {self.role_arn}: {exc.response['Error'].get('Message')}"
            ) from None
        except BotoCoreError as exc:
            raise CloudError(f"cannot assume role {self.role_arn}: {exc}") from None
        return boto3_session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )

    def _web_identity_session(self, sts: Any) -> tuple[boto3.Session, bool] | None:
        """In a CI job of the local GitLab (``AWS_ROLE_ARN`` and ``AWS_WEB_IDENTITY_TOKEN_FILE``
        set, as GitLab's ``.aws-oidc`` template sets them): the job's role through
        ``AssumeRoleWithWebIdentity`` — what boto3 does with those variables on AWS — and
        whether it is this account's. A job acts with nothing else, so another account's role
        is assumed from it and is refused where AWS would refuse it."""
        import os

        from botocore.exceptions import ClientError

        role = os.environ.get("AWS_ROLE_ARN", "")
        path = os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE", "")
        if not role or not path or not os.path.isfile(path):
            return None
        with open(path, encoding="utf-8") as handle:
            token = handle.read().strip()
        try:
            creds = sts.assume_role_with_web_identity(
                RoleArn=role,
                RoleSessionName=os.environ.get("AWS_ROLE_SESSION_NAME") or self.session_name,
                WebIdentityToken=token,
            )["Credentials"]
        except ClientError as exc:
            raise CloudError(
                f"cannot assume role {role} with the job's ID token: "
                f"{exc.response['Error'].get('Code')}: {exc.response['Error'].get('Message')}"
            ) from None
        session = boto3_session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=self.region,
        )
        parts = (self.role_arn or "").split(":")
        account = self.account_id or (parts[4] if len(parts) > 4 else "")
        return session, bool(account) and role.split(":")[4:5] == [account]

    def client(self, service: str) -> Any:
        with self._lock:
            cached = self._cache.get(service)
        if cached is not None:
            return cached
        extra: dict[str, Any] = {}
        if service == "s3" and self.is_local:
            extra["s3"] = {"addressing_style": "path"}
        made = self.session().client(
            service, endpoint_url=self.endpoint, config=_botocore_config(**extra)
        )
        with self._lock:
            self._cache.setdefault(service, made)
            return self._cache[service]


def clients_for(
    settings: Settings, endpoint: str | None = None, *, profile: str | None = None
) -> Clients:
    """Clients acting in the account of ``settings.environment``."""
    endpoint = endpoint_from(endpoint)
    return Clients(
        region=settings.region,
        endpoint=endpoint,
        role_arn=settings.access_role_arn,
        account_id=settings.account_id,
        session_name=f"batchops-{settings.environment}",
        profile=profile,
    )


def read_s3_json(clients: Clients, uri: str) -> Any:
    """The JSON document at ``s3://bucket/key``, read with ``clients``' account."""
    import json

    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return json.loads(clients.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def error_message(exc: Exception) -> str:
    """A one-line description of a botocore error (code and message, no traceback)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
