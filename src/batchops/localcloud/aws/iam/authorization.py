"""Authorization of every request signed by an assumed role, as IAM does it.

moto authorizes in one place, :class:`moto.core.authorization.ActionAuthenticatorMixin`
(every response class inherits it; S3 calls it with the bucket/key ARN, the others with
``_determine_resource()`` or ``*``). :func:`install` replaces its check with this one:

* requests signed with the credentials of an assumed-role session (STS ``AssumeRole``) or an
  IAM user's access key are *checked*: the role's identity policies (inline and attached,
  moto's :class:`~moto.iam.access_control.AssumedRoleAccessKey`) and the resource's policy
  (bucket policy, KMS key policy, secret policy, queue policy, model package group policy,
  the trust policy of a role being assumed) are evaluated by
  :mod:`batchops.localcloud.aws.iam.policies`;
* the account administrator is not checked, like an account's root user: the local cloud's
  static key (the bootstrap's) and sessions of the role ``batchops-local-admin`` (what
  ``batchops local credentials --env ENV`` prints), as is every unsigned request.

Enforcement is per local cloud: ``options["authorization"]`` (``"enforce"`` or ``"off"``),
else ``BATCHOPS_LOCAL_AUTHORIZATION``; default ``off`` until every role the bootstrap creates
carries the policies Terraform gives it. A refusal answers with the service's error code
(``AccessDenied`` for S3 and the query APIs, ``AccessDeniedException`` for the JSON APIs) and
IAM's message (principal, action, resource, which kind of policy refused).

Condition keys the context carries: ``aws:PrincipalArn``, ``aws:PrincipalAccount``,
``aws:PrincipalType``, ``aws:RequestedRegion``, ``aws:SecureTransport`` (``true``: the
loopback endpoint stands for AWS's TLS endpoints), ``s3:x-amz-server-side-encryption`` and
``s3:x-amz-server-side-encryption-aws-kms-key-id`` (the request's headers as sent, as S3
compares them), ``s3:prefix``, ``kms:CallerAccount``, ``kms:ViaService`` (an SSE-KMS object
written or read through S3 needs the caller's ``kms:GenerateDataKey``/``kms:Decrypt`` on its
key, key policy included, as S3 asks KMS for the caller; likewise a secret, an SQS message
and a DynamoDB item under a customer managed key, through Secrets Manager, SQS and DynamoDB).
Where a service's resource is not resolved (``*``), statements are matched on action and
conditions only.

A key's grants (:mod:`batchops.localcloud.aws.kms.grants`) allow what its policies do not,
short of an explicit Deny; a role's permissions boundary caps what its policies allow. A
Lambda function's environment key needs the deployer's ``kms:CreateGrant``/``kms:Encrypt``
through Lambda (:func:`_function_kms`). :func:`key_use_refusal` evaluates a service acting as
a role (Lambda decrypting an environment, SageMaker granting a job's volume key), and
:func:`service_refusal` a service principal acting for a resource (EventBridge for a rule).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any
from urllib.parse import unquote

from batchops.localcloud.aws.context import current_cloud_or_none
from batchops.localcloud.aws.iam.policies import Caller, Decision, Outcome, Request, evaluate
from batchops.localcloud.aws.iam.principals import ADMIN_ROLE, boundary_of, checked_caller

__all__ = ["ADMIN_ROLE", "authorize", "checked_caller", "enforcing", "install"]

ENV = "BATCHOPS_LOCAL_AUTHORIZATION"
#: sessions of this role are the account's administrator (unchecked, like the root user)

#: signing names whose IAM service prefix differs
_PREFIX = {"monitoring": "cloudwatch", "email": "ses"}
#: operation names whose IAM action differs
_ACTION = {
    "lambda:Invoke": "lambda:InvokeFunction",
    "lambda:Invoke20150331": "lambda:InvokeFunction",
}
#: services answering in the query (XML) protocol: AccessDenied; the others are JSON
_QUERY = frozenset(
    {"iam", "sts", "sns", "monitoring", "ec2", "cloudformation", "elasticloadbalancing"}
)


def enforcing(cloud: Any) -> bool:
    options = getattr(cloud, "options", None) or {}
    mode = options.get("authorization") or os.environ.get(ENV) or "off"
    return str(mode).lower() in ("enforce", "on", "1", "true")


def install() -> None:
    """Replace moto's authorization check with :func:`authorize` (idempotent)."""
    from moto.core.authorization import ActionAuthenticatorMixin

    if getattr(ActionAuthenticatorMixin, "_batchops_authorization", False):
        return

    def check(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        cloud = current_cloud_or_none()
        if cloud is None or not enforcing(cloud):
            return
        authorize(self, iam_request_cls, resource)

    ActionAuthenticatorMixin._authenticate_and_authorize_action = check  # type: ignore[method-assign]
    ActionAuthenticatorMixin._batchops_authorization = True  # type: ignore[attr-defined]


def authorize(response: Any, iam_request_cls: type, resource: str) -> None:
    """Raise the service's AccessDenied error unless IAM would allow the request."""
    from moto.iam.access_control import S3IAMRequest

    checked = checked_caller(response)
    if checked is None:
        return
    caller, key, region, service = checked
    is_s3 = iam_request_cls is S3IAMRequest
    operation = (response.data.get("Action") if is_s3 else response._get_action()) or "Unknown"
    if isinstance(operation, list):
        operation = operation[0]
    action = f"{_PREFIX.get(service, service)}:{operation}"
    action = _ACTION.get(action, action)
    if action == "sts:GetCallerIdentity":
        return  # always allowed, even with an explicit Deny
    resolved = Resolved(resource)
    if is_s3:
        _s3(response, resolved, resource)
    else:
        _RESOLVERS.get(service, _nothing)(response, resolved, region, caller, action)
    request = Request(
        caller=caller,
        action=action,
        resource=resolved.resource,
        context={
            **principal_context(caller),
            "aws:RequestedRegion": region,
            "aws:SecureTransport": "true",
            **resolved.context,
        },
    )
    outcome = evaluate(
        request,
        _identity_policies(key),
        resolved.policy,
        resource_account=resolved.account,
        key_policy=resolved.key_policy,
        boundary=boundary_of(key),
    )
    if not outcome.allowed and not _granted(resolved, request, outcome, operation):
        _refuse(response, service, is_s3, request, outcome)
    if is_s3 and action in ("s3:PutObject", "s3:GetObject"):
        _s3_kms(response, request, key, resource, region)
    elif service == "secretsmanager":
        _secret_kms(response, request, key, region)
    elif service == "sqs":
        _queue_kms(request, key, region)
    elif service == "dynamodb":
        _table_kms(request, key, region)
    elif service == "lambda":
        _function_kms(response, request, key, region)


def _granted(resolved: Resolved, request: Request, outcome: Outcome, operation: str) -> bool:
    """A KMS request its policies do not allow may be allowed by a grant on the key (not
    when a policy denies it explicitly)."""
    from batchops.localcloud.aws.kms.grants import grant_allows

    if resolved.kms_key is None or outcome.decision is Decision.EXPLICIT_DENY:
        return False
    return grant_allows(resolved.kms_key, request.caller, operation, resolved.encryption_context)


def principal_context(caller: Caller) -> dict[str, str | list[str]]:
    """The condition keys that describe the principal (none for a service principal)."""
    if caller.is_service:
        return {}
    return {
        "aws:PrincipalArn": caller.role_arn,
        "aws:PrincipalAccount": caller.account_id,
        "aws:PrincipalType": "AssumedRole" if ":assumed-role/" in caller.arn else "User",
    }


def _identity_policies(key: Any) -> list[Any]:
    """The session's role's (or user's) policies; none when the role no longer exists."""
    from moto.iam.exceptions import NotFoundException

    try:
        return list(key.collect_policies())
    except NotFoundException:
        return []


class Resolved:
    """The resource of a request, its owner and its resource policy."""

    def __init__(self, resource: str) -> None:
        self.resource = resource or "*"
        self.account: str | None = None
        self.policy: str | None = None
        self.key_policy = False
        self.context: dict[str, str | list[str]] = {}
        #: a KMS request's key (moto's) and encryption context, for its grants
        self.kms_key: Any = None
        self.encryption_context: dict[str, str] = {}


def _refuse(response: Any, service: str, is_s3: bool, request: Request, outcome: Outcome) -> None:
    from moto.core.exceptions import AccessDeniedError, JsonRESTError
    from moto.s3.exceptions import S3ClientError

    if is_s3:
        # S3 quotes the resource: ... on resource: "arn:aws:s3:::bucket/key" because ...
        quoted = Request(request.caller, request.action, f'"{request.resource}"', request.context)
        raise S3ClientError("AccessDenied", outcome.message(quoted))
    message = outcome.message(request)
    if service in _QUERY:
        error = AccessDeniedError(request.caller.arn, request.action)  # code 403, XML body
        super(AccessDeniedError, error).__init__("AccessDenied", message)
        raise error
    # SQS speaks JSON but is "query compatible": SDKs show the query code, AccessDenied
    raise JsonRESTError("AccessDenied" if service == "sqs" else "AccessDeniedException", message)


def _s3(response: Any, resolved: Resolved, resource: str) -> None:
    from moto.s3.models import s3_backends

    bucket_name = resource.split(":::", 1)[-1].split("/", 1)[0]
    headers = response.headers
    for header in ("x-amz-server-side-encryption", "x-amz-server-side-encryption-aws-kms-key-id"):
        value = headers.get(header)
        if value:
            resolved.context[f"s3:{header}"] = value
    prefix = (getattr(response, "querystring", {}) or {}).get("prefix")
    if prefix:
        resolved.context["s3:prefix"] = prefix[0]
    if bucket_name in ("", "*") or bucket_name not in s3_backends.bucket_accounts:
        return
    partition, owner = s3_backends.bucket_accounts[bucket_name]
    bucket = s3_backends[owner][partition].buckets.get(bucket_name)
    resolved.account = owner
    if bucket is not None and bucket.policy:
        resolved.policy = bucket.policy.decode()


def _s3_kms(response: Any, request: Request, key: Any, resource: str, region: str) -> None:
    """S3 uses the caller's KMS permissions for an SSE-KMS object: ``kms:GenerateDataKey``
    to write it, ``kms:Decrypt`` to read it, with ``kms:ViaService`` = S3 (key policy and
    identity policies, as KMS evaluates them)."""
    from moto.s3.models import s3_backends

    bucket_name, _, key_name = resource.split(":::", 1)[-1].partition("/")
    if bucket_name not in s3_backends.bucket_accounts:
        return
    partition, owner = s3_backends.bucket_accounts[bucket_name]
    bucket = s3_backends[owner][partition].buckets.get(bucket_name)
    if bucket is None:
        return
    if request.action == "s3:PutObject":
        headers = response.headers
        algorithm = headers.get("x-amz-server-side-encryption")
        key_id = headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        default = (
            (bucket.encryption or {}).get("Rule", {}).get("ApplyServerSideEncryptionByDefault", {})
        )
        if algorithm is None and default.get("SSEAlgorithm") == "aws:kms":
            algorithm, key_id = "aws:kms", key_id or default.get("KMSMasterKeyID")
        if algorithm != "aws:kms" or not key_id:
            return
        kms_action = "kms:GenerateDataKey"
    else:
        stored = bucket.keys.get(key_name) if key_name else None
        if stored is None or stored.encryption != "aws:kms" or not stored.kms_key_id:
            return
        key_id, kms_action = stored.kms_key_id, "kms:Decrypt"
    refusal = key_use_refusal(
        request.caller,
        key,
        key_id,
        owner=owner,
        region=region,
        kms_action=kms_action,
        service="s3",
        context=request.context,
        # S3's encryption context: the object's ARN (no S3 Bucket Key here)
        encryption_context={"aws:s3:arn": f"arn:aws:s3:::{bucket_name}/{key_name}"},
    )
    if refusal is not None:
        from moto.s3.exceptions import S3ClientError

        raise S3ClientError("AccessDenied", refusal)


def key_use_refusal(
    caller: Caller,
    key: Any | None,
    key_id: str,
    *,
    owner: str,
    region: str,
    kms_action: str,
    service: str,
    encryption_context: dict[str, str] | None = None,
    context: dict[str, str | list[str]] | None = None,
) -> str | None:
    """IAM's message when ``caller`` may not use KMS key ``key_id`` for ``kms_action`` through
    ``service`` (``kms:ViaService``), as KMS evaluates it for the service acting for the
    caller (key policy, identity policies within the permissions boundary, then the key's
    grants); None when it may. ``key``: whose policies the caller has — moto's access key of
    the request, a :class:`~batchops.localcloud.aws.iam.principals.RolePolicies` (a service
    acting as a role: Lambda decrypting an environment), or None (a service principal)."""
    from batchops.localcloud.aws.kms.grants import grant_allows, key_of

    kms_key = key_of(key_id, account=owner, region=region)
    if kms_key is None:  # the service itself answers for a key that does not exist
        return None
    key_account = kms_key.arn.split(":")[4]
    kms_request = Request(
        caller=caller,
        action=kms_action,
        resource=kms_key.arn,
        context={
            **principal_context(caller),
            "aws:SecureTransport": "true",
            **(context or {}),
            **{f"kms:EncryptionContext:{k}": v for k, v in (encryption_context or {}).items()},
            "kms:ViaService": f"{service}.{region}.amazonaws.com",
            "kms:CallerAccount": caller.account_id,
        },
    )
    outcome = evaluate(
        kms_request,
        _identity_policies(key) if key is not None else [],
        kms_key.policy,
        resource_account=key_account,
        key_policy=True,
        boundary=boundary_of(key) if key is not None else None,
    )
    if outcome.allowed:
        return None
    operation = kms_action.split(":", 1)[1]
    if outcome.decision is not Decision.EXPLICIT_DENY and grant_allows(
        kms_key, caller, operation, encryption_context
    ):
        return None
    return outcome.message(kms_request)


def service_refusal(
    service_principal: str,
    action: str,
    resource: str,
    policy: str | None,
    *,
    account: str,
    region: str,
    source_arn: str,
    key_id: str | None = None,
    key_actions: tuple[str, ...] = (),
) -> str | None:
    """Why an AWS service acting for a resource of ``account`` (EventBridge for a rule:
    ``aws:SourceArn``/``aws:SourceAccount``) may not do ``action`` on ``resource``, whose
    resource policy is ``policy`` — a service principal has no identity policies, so the
    resource policy must name it; then the resource's KMS key (``key_id``) must let it run
    ``key_actions``. None when it may."""
    caller = Caller(arn=service_principal, account_id=account)
    context: dict[str, str | list[str]] = {
        "aws:SourceArn": source_arn,
        "aws:SourceAccount": account,
        "aws:SecureTransport": "true",
    }
    request = Request(caller=caller, action=action, resource=resource, context=context)
    outcome = evaluate(request, [], policy, resource_account=resource.split(":")[4] or account)
    if not outcome.allowed:
        return outcome.message(request)
    for kms_action in key_actions if key_id else ():
        refusal = key_use_refusal(
            caller,
            None,
            str(key_id),
            owner=account,
            region=region,
            kms_action=kms_action,
            service=action.split(":", 1)[0],
            context=context,
        )
        if refusal is not None:
            return refusal
    return None


#: Secrets Manager actions that use the secret's KMS key for the caller, and how
_SECRET_KEY_USE = {
    "secretsmanager:GetSecretValue": "kms:Decrypt",
    "secretsmanager:PutSecretValue": "kms:GenerateDataKey",
    "secretsmanager:UpdateSecret": "kms:GenerateDataKey",
}


def _secret_kms(response: Any, request: Request, key: Any, region: str) -> None:
    """Secrets Manager encrypts and decrypts a secret with its customer managed key as the
    caller (``kms:ViaService`` = Secrets Manager); without that permission it answers
    ``AccessDeniedException: Access to KMS is not allowed``."""
    from moto.core.exceptions import JsonRESTError
    from moto.secretsmanager.models import secretsmanager_backends

    kms_action = _SECRET_KEY_USE.get(request.action)
    if kms_action is None or not request.resource.startswith("arn:aws:secretsmanager:"):
        return
    owner = request.resource.split(":")[4]
    try:
        secret = secretsmanager_backends[owner][region].describe_secret(request.resource)
    except Exception:
        return
    key_id = getattr(secret, "kms_key_id", None)
    if not key_id or str(key_id).startswith("alias/aws/"):
        return  # the AWS managed key: usable by the account's principals through the service
    if key_use_refusal(
        request.caller,
        key,
        str(key_id),
        owner=owner,
        region=region,
        kms_action=kms_action,
        service="secretsmanager",
        context=request.context,
    ):
        raise JsonRESTError("AccessDeniedException", "Access to KMS is not allowed")


#: SQS actions that use the queue's KMS key for the caller, and how: "the producer must have
#: kms:GenerateDataKey and kms:Decrypt", "the consumer must have kms:Decrypt" (SQS developer
#: guide, key management)
_QUEUE_KEY_USE = {
    "sqs:SendMessage": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:SendMessageBatch": ("kms:GenerateDataKey", "kms:Decrypt"),
    "sqs:ReceiveMessage": ("kms:Decrypt",),
}


def _customer_key(key_id: Any, aws_managed: str) -> str | None:
    """``key_id`` unless the resource uses no key or the AWS managed one (usable by every
    principal of the account through its service, as AWS's default key policies say)."""
    if not key_id or str(key_id) == aws_managed or str(key_id).endswith(f":{aws_managed}"):
        return None
    return str(key_id)


def _queue_kms(request: Request, key: Any, region: str) -> None:
    """A message on an SSE-KMS queue is encrypted and decrypted with the caller's KMS
    permissions (``kms:ViaService`` = SQS); refused: ``KMS.AccessDeniedException`` with KMS's
    message, as SQS answers it."""
    from moto.core.exceptions import JsonRESTError
    from moto.sqs.models import sqs_backends

    kms_actions = _QUEUE_KEY_USE.get(request.action)
    if not kms_actions or not request.resource.startswith("arn:aws:sqs:"):
        return
    _, _, _, queue_region, owner, name = request.resource.split(":", 5)
    try:
        queue = sqs_backends[owner][queue_region].get_queue(name)
    except Exception:
        return  # SQS itself answers for a queue that does not exist
    key_id = _customer_key(getattr(queue, "kms_master_key_id", None), "alias/aws/sqs")
    if key_id is None:
        return
    for kms_action in kms_actions:
        refusal = key_use_refusal(
            request.caller,
            key,
            key_id,
            owner=owner,
            region=region,
            kms_action=kms_action,
            service="sqs",
            context=request.context,
        )
        if refusal is not None:
            raise JsonRESTError("KMS.AccessDeniedException", refusal)


#: DynamoDB item operations, which need the table key decrypted for the caller
_TABLE_ITEM_ACTIONS = frozenset(
    f"dynamodb:{op}"
    for op in (
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "ConditionCheckItem",
    )
)


def _table_kms(request: Request, key: Any, region: str) -> None:
    """A table under a customer managed key: DynamoDB decrypts the table key with the caller's
    ``kms:Decrypt`` through DynamoDB (``kms:ViaService``); AWS's troubleshooting guide lists a
    customer managed key the caller may not use as a cause of ``AccessDeniedException``. The
    exact wording of DynamoDB's message is not documented: KMS's (principal, action, key)."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import dynamodb_backends

    if request.action not in _TABLE_ITEM_ACTIONS or ":table/" not in request.resource:
        return
    _, _, _, table_region, owner, rest = request.resource.split(":", 5)
    try:
        table = dynamodb_backends[owner][table_region].get_table(rest.split("/", 1)[1])
    except Exception:
        return
    spec = getattr(table, "sse_specification", None) or {}
    if spec.get("Enabled") is not True:
        return
    key_id = _customer_key(spec.get("KMSMasterKeyId"), "alias/aws/dynamodb")
    if key_id is None:
        return
    refusal = key_use_refusal(
        request.caller,
        key,
        key_id,
        owner=owner,
        region=region,
        kms_action="kms:Decrypt",
        service="dynamodb",
        context=request.context,
    )
    if refusal is not None:
        raise JsonRESTError("AccessDeniedException", refusal)


#: what Lambda's grant for a function's execution role allows (environment decryption)
LAMBDA_GRANT_OPERATIONS = ["Decrypt"]


def lambda_configuration_refusal(kms_exception: str, kms_message: str) -> Exception:
    """Lambda's answer when it cannot create the grant for a function's environment key
    (the wording AWS answers, with KMS's own exception and message)."""
    from moto.awslambda.exceptions import InvalidParameterValueException

    return InvalidParameterValueException(
        "Lambda was unable to configure access to your environment variables because the KMS "
        "key is invalid for CreateGrant. Please check your KMS key settings. "
        f"KMS Exception: {kms_exception} KMS Message: {kms_message}"
    )


def _function_kms(response: Any, request: Request, key: Any, region: str) -> None:
    """A function whose environment is encrypted with a customer managed key: Lambda uses the
    caller's permissions to create a grant on the key for the execution role and to encrypt
    the environment (``kms:CreateGrant`` and ``kms:Encrypt`` through Lambda, Lambda developer
    guide, "Securing environment variables"); refused, it answers InvalidParameterValue."""
    from moto.awslambda.models import lambda_backends

    from batchops.localcloud.aws.kms.grants import is_alias

    if request.action not in ("lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"):
        return
    body = _body(response)
    key_id = body.get("KMSKeyArn")
    if not isinstance(key_id, str) or not key_id or is_alias(key_id):
        return  # no customer key, or one Lambda refuses whoever asks (awslambda.functions)
    role = body.get("Role")
    owner = request.caller.account_id
    if not role:
        name = unquote(str(response.path).rstrip("/").split("/")[-2])
        try:
            role = lambda_backends[owner][region].get_function(name).role
        except Exception:
            return  # Lambda itself answers for a function that does not exist
    grant: dict[str, str | list[str]] = {
        "kms:GrantIsForAWSResource": "true",
        "kms:GranteePrincipal": str(role),
        "kms:GrantOperations": list(LAMBDA_GRANT_OPERATIONS),
    }
    for kms_action, context in (("kms:CreateGrant", grant), ("kms:Encrypt", {})):
        refusal = key_use_refusal(
            request.caller,
            key,
            key_id,
            owner=owner,
            region=region,
            kms_action=kms_action,
            service="lambda",
            context={**request.context, **context},
        )
        if refusal is not None:
            raise lambda_configuration_refusal("AccessDeniedException", refusal)


def _body(response: Any) -> dict[str, Any]:
    if isinstance(response.body, dict):  # DynamoDB's handler keeps the parsed parameters
        return response.body
    try:
        body = json.loads(response.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _nothing(*_args: Any) -> None:
    return None


def _secretsmanager(
    response: Any, resolved: Resolved, region: str, caller: Caller, _action: str
) -> None:
    from moto.secretsmanager.models import secretsmanager_backends

    secret_id = _body(response).get("SecretId")
    if not secret_id:
        return
    backend = secretsmanager_backends[caller.account_id][region]
    try:
        secret = backend.describe_secret(secret_id)
    except Exception:
        resolved.resource = (
            secret_id
            if secret_id.startswith("arn:")
            else f"arn:aws:secretsmanager:{region}:{caller.account_id}:secret:{secret_id}"
        )
        return
    resolved.resource = secret.arn
    resolved.policy = getattr(secret, "policy", None)


def _kms(response: Any, resolved: Resolved, region: str, caller: Caller, _action: str) -> None:
    from moto.kms.models import kms_backends

    body = _body(response)
    key_id = body.get("KeyId") or body.get("DestinationKeyId")
    if not key_id and "CiphertextBlob" in body:
        key_id = _key_of_ciphertext(body["CiphertextBlob"])
    if not key_id:
        return
    backend = kms_backends[caller.account_id][region]
    try:
        key = backend.describe_key(backend.any_id_to_key_id(key_id))
    except Exception:
        return
    resolved.resource = key.arn
    resolved.policy = key.policy
    resolved.key_policy = True
    resolved.kms_key = key
    resolved.context["kms:CallerAccount"] = caller.account_id
    encryption_context = body.get("EncryptionContext")
    if isinstance(encryption_context, dict):
        resolved.encryption_context = {str(k): str(v) for k, v in encryption_context.items()}
        for name, value in resolved.encryption_context.items():
            resolved.context[f"kms:EncryptionContext:{name}"] = value
        resolved.context["kms:EncryptionContextKeys"] = list(resolved.encryption_context)
    if _action == "kms:CreateGrant":
        # a principal calling CreateGrant itself: not an AWS service integrated with KMS
        resolved.context["kms:GrantIsForAWSResource"] = "false"
        resolved.context["kms:GrantOperations"] = [str(o) for o in body.get("Operations") or []]
        for param in ("GranteePrincipal", "RetiringPrincipal"):
            if body.get(param):
                resolved.context[f"kms:{param}"] = str(body[param])


def _key_of_ciphertext(blob: str) -> str | None:
    """The key id moto's ciphertext starts with (its format: key id, then the sealed data)."""
    import base64

    try:
        raw = base64.b64decode(blob)
    except ValueError:
        return None
    match = re.match(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", raw)
    return match.group(0).decode() if match else None


def _sagemaker(
    response: Any, resolved: Resolved, region: str, caller: Caller, _action: str
) -> None:
    from moto.sagemaker.models import sagemaker_backends

    from batchops.localcloud.aws.sagemaker.registry import group_policies

    body = _body(response)
    name = body.get("ModelPackageGroupName") or body.get("ModelPackageName")
    if not name:
        pipeline = body.get("PipelineName")
        if pipeline:
            resolved.resource = (
                pipeline
                if pipeline.startswith("arn:")
                else f"arn:aws:sagemaker:{region}:{caller.account_id}:pipeline/{pipeline.lower()}"
            )
        return
    match = re.match(r"arn:aws:sagemaker:([^:]+):(\d+):model-package(?:-group)?/([^/]+)", name)
    owner, group = (match.group(2), match.group(3)) if match else (caller.account_id, name)
    owner_region = match.group(1) if match else region
    resolved.account = owner
    resolved.resource = (
        name if match else f"arn:aws:sagemaker:{region}:{owner}:model-package-group/{group.lower()}"
    )
    resolved.policy = group_policies(sagemaker_backends[owner][owner_region]).get(group)


def _sts(response: Any, resolved: Resolved, region: str, caller: Caller, action: str) -> None:
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    role_arn = (response.querystring.get("RoleArn") or [None])[0]
    if not role_arn or not action.startswith("sts:AssumeRole"):
        return
    resolved.resource = role_arn
    owner = role_arn.split(":")[4]
    resolved.account = owner
    try:
        role = iam_backends[owner][get_partition(region)].get_role_by_arn(role_arn)
    except Exception:
        return
    resolved.policy = role.assume_role_policy_document


#: IAM request parameters naming the request's resource, and its ARN's resource part (the
#: first one present wins: AttachRolePolicy's resource is the role, its policy a condition)
_IAM_RESOURCES = (
    ("RoleName", "role/{}"),
    ("UserName", "user/{}"),
    ("GroupName", "group/{}"),
    ("InstanceProfileName", "instance-profile/{}"),
    ("OpenIDConnectProviderArn", None),
    ("PolicyArn", None),
)


def _iam(response: Any, resolved: Resolved, region: str, caller: Caller, action: str) -> None:
    """The IAM resource a request names (role, user, policy, OIDC provider...), so a
    statement's ``Resource`` applies and a refusal names it as IAM does."""
    query = getattr(response, "querystring", {}) or {}

    def param(name: str) -> str | None:
        value = (query.get(name) or [None])[0]
        return str(value) if value else None

    partition = "aws-cn" if region.startswith("cn-") else "aws"
    prefix = f"arn:{partition}:iam::{caller.account_id}:"
    if param("PermissionsBoundary"):  # CreateRole, PutRolePermissionsBoundary, CreateUser...
        resolved.context["iam:PermissionsBoundary"] = str(param("PermissionsBoundary"))
    if action == "iam:CreateOpenIDConnectProvider":
        url = param("Url")
        if url:
            host = url.split("://", 1)[-1].rstrip("/")
            resolved.resource = f"{prefix}oidc-provider/{host}"
        return
    if action == "iam:CreatePolicy" and param("PolicyName"):
        resolved.resource = f"{prefix}policy{param('Path') or '/'}{param('PolicyName')}"
        return
    for name, pattern in _IAM_RESOURCES:
        value = param(name)
        if not value:
            continue
        if pattern is None:
            resolved.resource = value
        elif name == "RoleName":  # a role's ARN holds its path
            resolved.resource = _role_arn(caller.account_id, partition, value) or (
                f"{prefix}role{param('Path') or '/'}{value}"
            )
        else:
            resolved.resource = prefix + pattern.format(value)
        return


def _role_arn(account: str, partition: str, name: str) -> str | None:
    from moto.iam.models import iam_backends

    try:
        return str(iam_backends[account][partition].get_role(name).arn)
    except Exception:
        return None


def _sqs(response: Any, resolved: Resolved, region: str, caller: Caller, _action: str) -> None:
    """The queue moto resolved (its ARN) and its queue policy."""
    from moto.sqs.models import sqs_backends

    if not resolved.resource.startswith("arn:aws:sqs:"):
        return
    _, _, _, queue_region, owner, name = resolved.resource.split(":", 5)
    resolved.account = owner
    try:
        queue = sqs_backends[owner][queue_region].get_queue(name)
    except Exception:
        return
    resolved.policy = getattr(queue, "policy", None) or None


def _dynamodb(response: Any, resolved: Resolved, region: str, caller: Caller, _action: str) -> None:
    """The table a request names (DynamoDB has no resource policies here: identity only)."""
    name = _body(response).get("TableName")
    if not isinstance(name, str) or not name:
        return
    resolved.resource = (
        name
        if name.startswith("arn:")
        else f"arn:aws:dynamodb:{region}:{caller.account_id}:table/{name}"
    )


_RESOLVERS = {
    "secretsmanager": _secretsmanager,
    "kms": _kms,
    "sagemaker": _sagemaker,
    "sts": _sts,
    "iam": _iam,
    "sqs": _sqs,
    "dynamodb": _dynamodb,
}
