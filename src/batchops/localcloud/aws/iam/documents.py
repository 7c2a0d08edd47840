"""Resource policies that do not parse are refused when they are put, as AWS refuses them.

moto's IAM already refuses a malformed identity or trust policy (``MalformedPolicyDocument``
at ``PutRolePolicy``/``CreateRole``); its S3, KMS and Secrets Manager backends store any
text. :func:`install` makes them check the document first (the checks of
:func:`batchops.localcloud.aws.iam.policies.parse_policy`) and answer with each service's
error: S3 ``MalformedPolicy``, KMS and Secrets Manager ``MalformedPolicyDocumentException``.
"""

from __future__ import annotations

from typing import Any

from batchops.localcloud.aws.iam.policies import MalformedPolicy, parse_policy


def install() -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import KmsBackend
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import S3Backend
    from moto.secretsmanager.models import SecretsManagerBackend

    if getattr(S3Backend, "_batchops_policy_documents", False):
        return

    def checked(document: Any, error: Any) -> None:
        if document is None:
            return
        text = document.decode() if isinstance(document, bytes) else document
        try:
            parse_policy(text)
        except MalformedPolicy as exc:
            raise error(str(exc)) from None

    def s3_error(message: str) -> Exception:
        return S3ClientError("MalformedPolicy", message)

    def json_error(message: str) -> Exception:
        return JsonRESTError("MalformedPolicyDocumentException", message)

    put_bucket_policy = S3Backend.put_bucket_policy

    def s3_put(self: Any, bucket_name: str, policy: bytes) -> None:
        checked(policy, s3_error)
        put_bucket_policy(self, bucket_name, policy)

    put_key_policy = KmsBackend.put_key_policy

    def kms_put(self: Any, key_id: str, policy: str) -> None:
        checked(policy, json_error)
        put_key_policy(self, key_id, policy)

    create_key = KmsBackend.create_key

    def kms_create(self: Any, policy: str | None, *args: Any, **kwargs: Any) -> Any:
        checked(policy, json_error)
        return create_key(self, policy, *args, **kwargs)

    put_resource_policy = SecretsManagerBackend.put_resource_policy

    def secret_put(self: Any, secret_id: str, policy: str) -> Any:
        checked(policy, json_error)
        return put_resource_policy(self, secret_id, policy)

    S3Backend.put_bucket_policy = s3_put  # type: ignore[method-assign]
    KmsBackend.put_key_policy = kms_put  # type: ignore[method-assign]
    KmsBackend.create_key = kms_create  # type: ignore[method-assign]
    SecretsManagerBackend.put_resource_policy = secret_put  # type: ignore[method-assign]
    S3Backend._batchops_policy_documents = True  # type: ignore[attr-defined]
