"""Buckets, keys and the registry (storage checks)."""

from __future__ import annotations

import re
from typing import Any

from batchops.config import load_settings
from batchops.doctor.base import Context, Failure
from batchops.doctor.policies import allows, denies_insecure_transport, load

RUNBOOK = "README 'To your AWS accounts'"
_KMS_KEY_ID = re.compile(r'^\s*kms_key_id\s*=\s*"([^"]*)"', re.M)


def _workload_accounts() -> list[str]:
    return [load_settings(env).account_id for env in ("staging", "production")]


def _bucket_encryption_key(s3: Any, bucket: str) -> str | None:
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") == "aws:kms":
            return default.get("KMSMasterKeyID")
    return None


def _bucket_basics(context: Context, bucket: str, remedy: str) -> tuple[str, dict[str, Any]]:
    """Versioned, SSE-KMS by default, never public, TLS only; (default key ARN, policy)."""
    from botocore.exceptions import ClientError

    s3 = context.client("s3")
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError:
        raise Failure(f"bucket {bucket} does not exist in this account", remedy) from None
    if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
        raise Failure(f"bucket {bucket} is not versioned", remedy)
    try:
        key = _bucket_encryption_key(s3, bucket)
    except ClientError:
        key = None
    if not key:
        raise Failure(f"bucket {bucket} has no default SSE-KMS encryption", remedy)
    try:
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    except ClientError:
        block = {}
    if not block or not all(block.values()):
        raise Failure(f"bucket {bucket} does not block every kind of public access", remedy)
    try:
        policy = load(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError:
        raise Failure(
            f"bucket {bucket} has no bucket policy (TLS-only is missing)", remedy
        ) from None
    if not denies_insecure_transport(policy):
        raise Failure(f"bucket {bucket}'s policy does not deny requests without TLS", remedy)
    return context.key_arn(key), policy


def state_bucket(context: Context) -> str:
    settings = context.settings
    bucket = f"batchops-tfstate-{settings.account_id}"
    remedy = f"apply accounts/bootstrap for {settings.environment} ({RUNBOOK})"
    key_arn, _ = _bucket_basics(context, bucket, remedy)
    backend = context.accounts_dir / settings.environment / "backend.hcl"
    try:
        match = _KMS_KEY_ID.search(backend.read_text(encoding="utf-8"))
    except OSError:
        raise Failure(f"{backend} cannot be read", "run doctor from the repository") from None
    named = match.group(1) if match else ""
    if not named.startswith("arn:"):
        raise Failure(
            f"{backend} does not name the state key (kms_key_id is {named or 'missing'!r})",
            "write `terraform -chdir=accounts/bootstrap output -raw account_backend_hcl` to it "
            "and commit it",
        )
    if context.key_arn(named) != key_arn:
        raise Failure(
            f"{backend} names key {named}, but {bucket} encrypts with {key_arn}",
            "write the bootstrap's account_backend_hcl output to it",
        )
    return f"{bucket}: versioned, SSE-KMS {key_arn}, TLS only; backend.hcl agrees"


def data_bucket(context: Context) -> str:
    settings = context.settings
    remedy = f"apply accounts/{settings.environment} ({RUNBOOK})"
    key_arn, policy = _bucket_basics(context, settings.bucket_name, remedy)
    account_key = context.key_arn(settings.kms_key)
    if key_arn != account_key:
        raise Failure(
            f"{settings.bucket_name} encrypts with {key_arn}, not the account key "
            f"{settings.kms_key}",
            remedy,
        )
    if settings.environment == "data-science":
        for account in _workload_accounts():
            reader = f"arn:aws:iam::{account}:root"
            if not allows(policy, principal_arn=reader, account_id=account, action="s3:GetObject"):
                raise Failure(
                    f"{settings.bucket_name}'s policy does not let account {account} read the "
                    "model artefacts",
                    remedy,
                )
    return f"{settings.bucket_name}: versioned, SSE-KMS with the account key, private, TLS only"


def kms_key(context: Context) -> str:
    settings = context.settings
    kms = context.client("kms")
    remedy = f"apply accounts/{settings.environment} ({RUNBOOK})"
    try:
        metadata = kms.describe_key(KeyId=settings.kms_key)["KeyMetadata"]
    except kms.exceptions.NotFoundException:
        raise Failure(f"the settings' kms_key {settings.kms_key} does not exist", remedy) from None
    if metadata.get("KeyState") != "Enabled":
        raise Failure(f"key {metadata['Arn']} is {metadata.get('KeyState')}", remedy)
    if not kms.get_key_rotation_status(KeyId=metadata["KeyId"]).get("KeyRotationEnabled"):
        raise Failure(f"key {metadata['Arn']} has automatic rotation off", remedy)
    policy = load(kms.get_key_policy(KeyId=metadata["KeyId"], PolicyName="default")["Policy"])
    account = settings.account_id
    for role in (settings.role_arn, settings.access_role_arn):
        for action in ("kms:Decrypt", "kms:GenerateDataKey"):
            if not allows(policy, principal_arn=role, account_id=account, action=action):
                raise Failure(f"the key policy does not let {role} use the key ({action})", remedy)
    if settings.environment == "data-science":
        via_s3 = f"s3.{settings.region}.amazonaws.com"
        for other in _workload_accounts():
            root = f"arn:aws:iam::{other}:root"
            if not allows(
                policy,
                principal_arn=root,
                account_id=other,
                action="kms:Decrypt",
                via_service=via_s3,
            ):
                raise Failure(
                    f"the key policy does not let account {other} decrypt model artefacts "
                    "through S3",
                    remedy,
                )
    return f"{metadata['Arn']}: enabled, rotated, usable by the execution and deploy roles"


def registry(context: Context) -> str:
    settings = context.settings
    sagemaker = context.client("sagemaker")
    group = settings.model_package_group_name
    if settings.environment != "data-science":
        arn = (
            f"arn:aws:sagemaker:{settings.region}:{settings.registry_account_id}:"
            f"model-package-group/{group}"
        )
        from botocore.exceptions import ClientError

        try:  # as batchops deploy reads it: the group by ARN, across accounts
            sagemaker.list_model_packages(ModelPackageGroupName=arn, MaxResults=1)
        except ClientError as exc:
            from batchops.aws import error_message

            raise Failure(
                f"cannot read the central registry {arn} from here ({error_message(exc)})",
                "apply accounts/data-science (the group's policy lets this account read)",
            ) from None
        return f"the central registry {arn} is readable from {settings.environment}"
    remedy = f"apply accounts/data-science ({RUNBOOK})"
    from botocore.exceptions import ClientError

    try:
        sagemaker.describe_model_package_group(ModelPackageGroupName=group)
    except ClientError:
        raise Failure(f"model package group {group} does not exist", remedy) from None
    try:
        policy = load(
            sagemaker.get_model_package_group_policy(ModelPackageGroupName=group)["ResourcePolicy"]
        )
    except ClientError:
        raise Failure(f"model package group {group} has no resource policy", remedy) from None
    for other in _workload_accounts():
        root = f"arn:aws:iam::{other}:root"
        for action in ("sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"):
            if not allows(policy, principal_arn=root, account_id=other, action=action):
                raise Failure(f"the group policy does not let account {other} {action}", remedy)
    return f"{group}: readable by {', '.join(_workload_accounts())}"
