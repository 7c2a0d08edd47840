"""Cross-account S3 requests: the bucket's policy must allow the caller's account.

moto lets any account read any bucket; on AWS a request into another account's bucket
needs the bucket policy to allow it. An assumed role's request is authorized on both sides
by :mod:`batchops.localcloud.aws.iam.authorization`; here the account administrator's
(unchecked in its own account) still needs the other account's bucket policy. moto's own
bucket-policy check (every object request, anonymous ones included) ignores a statement's
``Condition`` — so the TLS-only Deny (``aws:SecureTransport`` false) would deny everything on
plain-HTTP loopback; it is evaluated without conditional statements there. For a checked
caller moto's check stands aside altogether (IAM's evaluation decides, with AWS's
``AccessDenied`` and its message), and where it still refuses (an unchecked or anonymous
caller) its bare 403 becomes S3's ``AccessDenied`` error document, as S3 answers.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from batchops.localcloud.aws.iam.policies import resource_policy_allows
from batchops.localcloud.aws.iam.principals import checked_caller

#: True while an object request of a checked caller is served: IAM's evaluation
#: (:mod:`batchops.localcloud.aws.iam.authorization`) judges the bucket policy, not moto
_JUDGED_BY_IAM: ContextVar[bool] = ContextVar("batchops_s3_judged_by_iam", default=False)


def install() -> None:
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import FakeBucket, s3_backends
    from moto.s3.responses import S3Response

    original_authorize = S3Response._authenticate_and_authorize_s3_action

    def authorize(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        # a checked caller (an assumed role) is authorized by IAM's rules, both sides of a
        # cross-account request included (batchops.localcloud.aws.iam.authorization); the
        # account's administrator is unchecked in its own account, but another account's
        # bucket still needs its policy to allow the administrator's account
        original_authorize(self, bucket_name=bucket_name, key_name=key_name)
        if not bucket_name or bucket_name not in s3_backends.bucket_accounts:
            return
        partition, owner = s3_backends.bucket_accounts[bucket_name]
        caller = self.current_account
        if owner == caller or _checked(self):
            return
        session = checked_caller(self)
        bucket = s3_backends[owner][partition].buckets.get(bucket_name)
        policy = bucket.policy.decode() if bucket is not None and bucket.policy else None
        action = _s3_action(self.method, key_name)
        resource = f"arn:aws:s3:::{bucket_name}" + (f"/{key_name}" if key_name else "")
        principal = session[0] if session is not None else None
        # a List's s3:prefix, which the data bucket's cross-account List statements require
        context = {}
        if action == "s3:ListBucket":
            context["s3:prefix"] = (getattr(self, "querystring", {}).get("prefix") or [""])[0]
        if not resource_policy_allows(
            policy, caller, action, resource, caller=principal, context=context
        ):
            raise S3ClientError(
                "AccessDenied",
                f"User: arn:aws:iam::{caller}:root is not authorized to perform: {action} on "
                f'resource: "{resource}" because no resource-based policy allows the '
                f"{action} action",
            )

    S3Response._authenticate_and_authorize_s3_action = authorize  # type: ignore[method-assign]

    original_key_response = S3Response._key_response

    def key_response(self: Any, request: Any, full_url: str) -> Any:
        token = _JUDGED_BY_IAM.set(_checked(self))
        try:
            answer = original_key_response(self, request, full_url)
        finally:
            _JUDGED_BY_IAM.reset(token)
        if answer == (403, {}, "") and request.method != "HEAD":  # moto's bucket-policy deny
            raise S3ClientError("AccessDenied", "Access Denied")
        return answer

    S3Response._key_response = key_response  # type: ignore[method-assign]

    def get_permission(self: Any, action: str, resource: str) -> Any:
        # moto ignores a statement's Condition, so the TLS-only Deny ("aws:SecureTransport"
        # false) would deny everything on plain-HTTP loopback: evaluate without the
        # conditional statements (the local cloud has no transport to secure).
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None or _JUDGED_BY_IAM.get():
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        kept = [st for st in statements if "Condition" not in st]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _checked(response: Any) -> bool:
    from batchops.localcloud.aws.context import current_cloud_or_none
    from batchops.localcloud.aws.iam.authorization import enforcing

    cloud = current_cloud_or_none()
    return cloud is not None and enforcing(cloud) and checked_caller(response) is not None


def _s3_action(method: str, key: str | None) -> str:
    if key:
        return {
            "GET": "s3:GetObject",
            "HEAD": "s3:GetObject",
            "PUT": "s3:PutObject",
            "POST": "s3:PutObject",
            "DELETE": "s3:DeleteObject",
        }.get(method, "s3:GetObject")
    return {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket", "DELETE": "s3:DeleteBucket"}.get(
        method, "s3:PutBucketPolicy"
    )
