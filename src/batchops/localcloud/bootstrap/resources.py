"""Create, in each account of the local cloud, what Terraform creates on AWS.

Same names as the Terraform modules (``shared-modules/``), read from the same settings:
the KMS key and its alias, the data bucket (versioning, SSE-KMS, public access block,
EventBridge notifications, TLS-only policy; the data-science bucket also lets the
staging and production accounts read model artefacts and baselines), the SageMaker
execution role and the access role, the notification topic with its e-mail
subscriptions, the idempotency table, and in data-science the model package group with
its resource policy and the GitLab trigger secret. Applying the Terraform roots against
the local cloud is tested separately; this bootstrap is the fast path (< 2 s) that
``batchops local up`` takes. Every call is idempotent.

(The event wiring of each account — functions, rules, targets, bus policy — is in
:mod:`batchops.localcloud.bootstrap.events`.)
"""

from __future__ import annotations

import json
from typing import Any

from batchops.aws import Clients
from batchops.config import Settings, load_settings

LOCAL_TRIGGER_TOKEN = "local-trigger-token"

_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "sagemaker.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


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


def bucket_policy(settings: Settings, readers: list[str]) -> dict[str, Any]:
    bucket = f"arn:aws:s3:::{settings.bucket_name}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket, f"{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ]
    if readers:
        statements.append(
            {
                "Sid": "RegistryReadersGetModelsAndBaselines",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in readers]},
                "Action": ["s3:GetObject", "s3:ListBucket"],
                "Resource": [bucket, f"{bucket}/{settings.bucket_prefix}/*"],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def staging_account() -> str:
    return load_settings("staging").account_id


def registry_policy(settings: Settings, readers: list[str]) -> dict[str, Any]:
    region, account, group = settings.region, settings.account_id, settings.model_package_group_name
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "StagingAndProductionReadTheRegistry",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in readers]},
                "Action": [
                    "sagemaker:DescribeModelPackage",
                    "sagemaker:ListModelPackages",
                    "sagemaker:DescribeModelPackageGroup",
                ],
                "Resource": [
                    f"arn:aws:sagemaker:{region}:{account}:model-package-group/{group}",
                    f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/*",
                ],
            },
            {
                # promotion evidence (batchops.promotion): staging alone writes it
                "Sid": "StagingRecordsPromotionEvidence",
                "Effect": "Allow",
                "Principal": {
                    "AWS": [f"arn:aws:iam::{a}:root" for a in readers if a == staging_account()]
                },
                "Action": ["sagemaker:UpdateModelPackage"],
                "Resource": [f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/*"],
            },
        ],
    }


def bootstrap_account(settings: Settings, clients: Clients, readers: list[str]) -> None:
    kms = clients.client("kms")
    alias = settings.kms_key.split(":alias/", 1)[-1] if ":alias/" in settings.kms_key else None
    known = {a["AliasName"] for a in kms.list_aliases().get("Aliases", [])}
    if alias and f"alias/{alias}" not in known:
        key_id = kms.create_key(Description=f"batchops {settings.environment}")["KeyMetadata"][
            "KeyId"
        ]
        kms.enable_key_rotation(KeyId=key_id)
        kms.create_alias(AliasName=f"alias/{alias}", TargetKeyId=key_id)

    s3 = clients.client("s3")
    _exists(s3.create_bucket, Bucket=settings.bucket_name)
    s3.put_bucket_versioning(
        Bucket=settings.bucket_name, VersioningConfiguration={"Status": "Enabled"}
    )
    s3.put_bucket_encryption(
        Bucket=settings.bucket_name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": settings.kms_key,
                    },
                    "BucketKeyEnabled": True,
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=settings.bucket_name,
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
    s3.put_bucket_notification_configuration(
        Bucket=settings.bucket_name, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    s3.put_bucket_policy(
        Bucket=settings.bucket_name, Policy=json.dumps(bucket_policy(settings, readers))
    )

    iam = clients.client("iam")
    for role_arn in (settings.role_arn, settings.access_role_arn):
        _exists(
            iam.create_role,
            RoleName=role_arn.rsplit("/", 1)[-1],
            AssumeRolePolicyDocument=json.dumps(_TRUST),
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
            ResourcePolicy=json.dumps(registry_policy(settings, readers)),
        )
        secrets = clients.client("secretsmanager")
        _exists(
            secrets.create_secret,
            Name=settings.gitlab_trigger_secret_name,
            KmsKeyId=settings.kms_key,
            SecretString=LOCAL_TRIGGER_TOKEN,
        )
