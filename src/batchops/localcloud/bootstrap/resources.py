"""Create, in each account of the local cloud, what Terraform creates on AWS.

What ``accounts/bootstrap`` creates (the GitLab OIDC provider, the plan and apply roles, the
state key and bucket) and what the account root creates (the account key, the data bucket
with its EventBridge notifications, every IAM role, the notification topic with its e-mail
subscriptions, the idempotency table, and in data-science the model package group and the
GitLab secrets). Every policy and trust document is Terraform's own, from
``terraform-policies.json`` (:mod:`.terraform_policies`: captured from the applied roots and
compared by tests with both sides). This is the fast path (< 2 s) that ``batchops local up``
takes; every call is idempotent.

(The event wiring of each account — functions, rules, targets, bus policy — is in
:mod:`batchops.localcloud.bootstrap.events`.)
"""

from __future__ import annotations

import json
from typing import Any

from batchops.aws import Clients
from batchops.config import Settings
from batchops.localcloud.bootstrap.terraform_policies import (
    STATE_KEY_ALIAS,
    account_key_alias,
    load_snapshot,
    render,
)

LOCAL_TRIGGER_TOKEN = "local-trigger-token"
#: the read-only API token of the GitLab stand-in (``read_api`` on GitLab)
LOCAL_READ_TOKEN = "local-read-api-token"


def _exists(call: Any, *args: Any, **kwargs: Any) -> Any:
    from botocore.exceptions import ClientError

    try:
        return call(*args, **kwargs)
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in (
            "EntityAlreadyExists",
            "BucketAlreadyOwnedByYou",
            "ResourceInUseException",
            "ResourceExistsException",
            "AlreadyExistsException",
            "ValidationException",
        ):
            return None
        raise


def ensure_keys(settings: Settings, clients: Clients) -> dict[tuple[str, str], str]:
    """The account key and the state key, rotated; ``(environment, alias) -> key ARN``.

    Created first, in every account, because the other accounts' documents name them
    (the workload roles may decrypt the registry's artefacts).
    """
    kms = clients.client("kms")
    known = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases().get("Aliases", [])}
    wanted = {
        account_key_alias(settings): f"batchops {settings.environment}",
        STATE_KEY_ALIAS: (f"batchops Terraform state of the {settings.environment} account"),
    }
    keys: dict[tuple[str, str], str] = {}
    for alias, description in wanted.items():
        key_id = known.get(f"alias/{alias}")
        if key_id is None:
            key_id = kms.create_key(Description=description)["KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)
        kms.enable_key_rotation(KeyId=key_id)
        keys[(settings.environment, alias)] = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    return keys


def _put_roles(iam: Any, roles: dict[str, Any]) -> None:
    """Every role of the account with Terraform's trust, inline and attached policies."""
    for name, role in roles.items():
        trust = json.dumps(role["trust"])
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        except iam.exceptions.EntityAlreadyExistsException:
            iam.update_assume_role_policy(RoleName=name, PolicyDocument=trust)
        stale = set(iam.list_role_policies(RoleName=name)["PolicyNames"]) - set(role["inline"])
        for policy in stale:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for policy, document in role["inline"].items():
            iam.put_role_policy(
                RoleName=name, PolicyName=policy, PolicyDocument=json.dumps(document)
            )
        for arn in role["attached"]:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)


def _put_oidc_providers(iam: Any, providers: dict[str, list[str]]) -> None:
    """accounts/bootstrap's GitLab provider: one per URL, the client ids CI's audience."""
    existing = {p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]}
    for arn, client_ids in providers.items():
        if arn in existing:
            continue
        host = arn.split(":oidc-provider/", 1)[1]
        iam.create_open_id_connect_provider(Url=f"https://{host}", ClientIDList=client_ids)


def _put_bucket(s3: Any, bucket: str, key: str, policy: dict[str, Any]) -> None:
    """Versioned, SSE-KMS with ``key`` (bucket key on), never public, with its policy."""
    _exists(s3.create_bucket, Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            k: True
            for k in (
                "BlockPublicAcls",
                "IgnorePublicAcls",
                "BlockPublicPolicy",
                "RestrictPublicBuckets",
            )
        },
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def bootstrap_account(
    settings: Settings,
    clients: Clients,
    keys: dict[tuple[str, str], str],
    documents: dict[str, Any] | None = None,
) -> None:
    """What accounts/bootstrap and the account root create, with Terraform's documents.

    ``keys`` are every account's keys (:func:`ensure_keys`); ``documents`` this account's
    part of terraform-policies.json (default: the committed snapshot).
    """
    if documents is None:
        documents = load_snapshot()[settings.environment]
    account = render(documents, keys)
    kms, iam, s3 = clients.client("kms"), clients.client("iam"), clients.client("s3")
    for alias, key in account["keys"].items():
        arn = keys[(settings.environment, alias)]
        kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(key["policy"]))
        (kms.enable_key_rotation if key["rotation"] else kms.disable_key_rotation)(KeyId=arn)

    _put_oidc_providers(iam, account["oidc_providers"])
    _put_roles(iam, account["roles"])
    for bucket, described in account["buckets"].items():
        _put_bucket(s3, bucket, described["key"], described["policy"])
    # the data bucket sends every object event to EventBridge (event-rules read them)
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket_name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )

    sns = clients.client("sns")
    topic = sns.create_topic(
        Name=f"batchops-{settings.environment}-notifications",
        Attributes={"KmsMasterKeyId": settings.kms_key},
    )["TopicArn"]
    existing = {
        s["Endpoint"]
        for s in sns.list_subscriptions_by_topic(TopicArn=topic).get("Subscriptions", [])
    }
    for address in settings.email_recipient:
        if address not in existing:
            sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=address)

    dynamodb = clients.client("dynamodb")
    _exists(
        dynamodb.create_table,
        TableName=f"batchops-{settings.environment}-idempotency",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": settings.kms_key},
    )

    if settings.environment == "data-science":
        sm = clients.client("sagemaker")
        _exists(
            sm.create_model_package_group,
            ModelPackageGroupName=settings.model_package_group_name,
            ModelPackageGroupDescription="Central model registry (batchops)",
        )
        sm.put_model_package_group_policy(
            ModelPackageGroupName=settings.model_package_group_name,
            ResourcePolicy=json.dumps(account["registry_policy"]),
        )
        secrets = clients.client("secretsmanager")
        _exists(
            secrets.create_secret,
            Name=settings.gitlab_trigger_secret_name,
            KmsKeyId=settings.kms_key,
            SecretString=LOCAL_TRIGGER_TOKEN,
        )
        _exists(
            secrets.create_secret,
            Name=settings.gitlab_read_token_secret_name,
            KmsKeyId=settings.kms_key,
            SecretString=LOCAL_READ_TOKEN,
        )
