"""KMS grants, and the grant Lambda creates for a function's encrypted environment (issue 14,
"KMS the way AWS does it"): a grant lets its grantee use a key its policies do not allow;
Lambda creates one with the deployer's permissions and decrypts the environment through it
before the function runs."""

from __future__ import annotations

import io
import json
import sys
import types
import uuid
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import REGION, A, Account, _denied, _via

HANDLERS = types.ModuleType("kms_grant_handlers")
HANDLERS.answer = lambda event, context: {"ran": context.function_name}  # type: ignore[attr-defined]
sys.modules[HANDLERS.__name__] = HANDLERS


def _ciphertext(a: Account, key_id: str, **context: str) -> bytes:
    kms = a.client("kms")
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionContext=context)
    return bytes(blob["CiphertextBlob"])


def test_a_grant_lets_its_grantee_use_a_key_its_policies_do_not_allow(a: Account) -> None:
    kms = a.client("kms")
    key = kms.create_key()["KeyMetadata"]  # default policy: IAM policies decide
    role, session = a.role()  # no policy at all
    grantee = a.client("kms", session)
    blob = _ciphertext(a, key["KeyId"], purpose="report")
    error = _denied(grantee.decrypt, CiphertextBlob=blob, EncryptionContext={"purpose": "report"})
    assert error["Code"] == "AccessDeniedException"
    assert "because no identity-based policy allows the kms:Decrypt action" in error["Message"]

    grant = kms.create_grant(
        KeyId=key["Arn"],
        GranteePrincipal=role,
        Operations=["Decrypt"],
        Constraints={"EncryptionContextSubset": {"purpose": "report"}},
    )
    decrypted = grantee.decrypt(CiphertextBlob=blob, EncryptionContext={"purpose": "report"})
    assert decrypted["Plaintext"] == b"secret"
    # the grant's constraint: another encryption context is not covered
    other = _ciphertext(a, key["KeyId"], purpose="billing")
    error = _denied(grantee.decrypt, CiphertextBlob=other, EncryptionContext={"purpose": "billing"})
    assert error["Code"] == "AccessDeniedException"
    # nor another operation
    error = _denied(grantee.encrypt, KeyId=key["Arn"], Plaintext=b"x")
    assert "kms:Encrypt" in error["Message"]

    kms.revoke_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    error = _denied(grantee.decrypt, CiphertextBlob=blob, EncryptionContext={"purpose": "report"})
    assert error["Code"] == "AccessDeniedException"


def test_an_explicit_deny_wins_over_a_grant(a: Account) -> None:
    kms = a.client("kms")
    key = kms.create_key()["KeyMetadata"]
    role, session = a.role({"Effect": "Deny", "Action": "kms:Decrypt", "Resource": "*"})
    kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=role, Operations=["Decrypt"])
    blob = _ciphertext(a, key["KeyId"])
    error = _denied(a.client("kms", session).decrypt, CiphertextBlob=blob)
    assert error["Message"].endswith("with an explicit deny in an identity-based policy")


def test_create_grant_takes_a_key_id_or_arn_and_knows_who_asks(a: Account) -> None:
    """An alias is refused as KMS refuses it; a grant a principal creates itself is not "for
    an AWS resource" (``kms:GrantIsForAWSResource`` is false)."""
    kms = a.client("kms")
    key = kms.create_key()["KeyMetadata"]
    alias = f"alias/g-{uuid.uuid4().hex[:6]}"
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    for named in (alias, f"arn:aws:kms:{REGION}:{A}:{alias}"):
        error = _denied(
            kms.create_grant, KeyId=named, GranteePrincipal=key["Arn"], Operations=["Decrypt"]
        )
        assert error == {
            "Code": "InvalidArnException",
            "Message": "Key Aliases are not supported for this operation.",
        }
    role, session = a.role(
        {
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": key["Arn"],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }
    )
    error = _denied(
        a.client("kms", session).create_grant,
        KeyId=key["Arn"],
        GranteePrincipal=role,
        Operations=["Decrypt"],
    )
    assert error["Code"] == "AccessDeniedException"
    assert "kms:CreateGrant" in error["Message"]


# --- Lambda: the environment's customer managed key ---------------------------------------


def _function_role(a: Account) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    name = f"fn-{uuid.uuid4().hex[:8]}"
    role = a.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    return str(role["Role"]["Arn"])


def _function(name: str, role: str, key_arn: str) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "runs in-process")
    return {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": role,
        "Handler": f"{HANDLERS.__name__}.answer",
        "Code": {"ZipFile": buffer.getvalue()},
        "Environment": {"Variables": {"GREETING": "hello"}},
        "KMSKeyArn": key_arn,
    }


DEPLOY = {
    "Effect": "Allow",
    "Action": ["lambda:CreateFunction", "lambda:UpdateFunctionConfiguration", "iam:PassRole"],
    "Resource": "*",
}


def test_an_environment_key_needs_the_deployers_create_grant_and_encrypt_through_lambda(
    a: Account,
) -> None:
    key = a.client("kms").create_key()["KeyMetadata"]
    alias = f"alias/fn-{uuid.uuid4().hex[:6]}"
    a.client("kms").create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    role = _function_role(a)
    spec = _function(f"f-{uuid.uuid4().hex[:6]}", role, key["Arn"])

    deployer, session = a.role(DEPLOY)
    error = _denied(a.client("lambda", session).create_function, **spec)
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == (
        "Lambda was unable to configure access to your environment variables because the KMS "
        "key is invalid for CreateGrant. Please check your KMS key settings. KMS Exception: "
        f"AccessDeniedException KMS Message: User: arn:aws:sts::{A}:assumed-role/"
        f"{deployer.rsplit('/', 1)[-1]}/worker is not authorized to perform: kms:CreateGrant "
        f"on resource: {key['Arn']} because no identity-based policy allows the "
        "kms:CreateGrant action"
    )
    _arn, half = a.role(DEPLOY, _via("lambda", key["Arn"], "kms:CreateGrant"))
    error = _denied(a.client("lambda", half).create_function, **spec)
    assert "not authorized to perform: kms:Encrypt" in error["Message"]

    _arn, allowed = a.role(DEPLOY, _via("lambda", key["Arn"], "kms:CreateGrant", "kms:Encrypt"))
    lam = a.client("lambda", allowed)
    # Lambda's CreateGrant takes no alias, whoever asks
    error = _denied(
        lam.create_function, **{**spec, "KMSKeyArn": f"arn:aws:kms:{REGION}:{A}:{alias}"}
    )
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"].endswith(
        "KMS Exception: InvalidArnException KMS Message: Key Aliases are not supported for "
        "this operation."
    )
    created = lam.create_function(**spec)
    assert created["KMSKeyArn"] == key["Arn"]
    grants = a.client("kms").list_grants(KeyId=key["Arn"])["Grants"]
    assert [(g["GranteePrincipal"], g["Operations"], g["Constraints"]) for g in grants] == [
        (
            role,
            ["Decrypt"],
            {"EncryptionContextEquals": {"aws:lambda:FunctionArn": created["FunctionArn"]}},
        )
    ]


def test_lambda_decrypts_the_environment_as_the_execution_role_before_the_function_runs(
    a: Account,
) -> None:
    """The execution role needs no KMS permission: Lambda's grant covers it. Without the
    grant (revoked) or with the key disabled, the invocation fails as Lambda's does."""
    kms = a.client("kms")
    key = kms.create_key()["KeyMetadata"]
    role = _function_role(a)
    name = f"f-{uuid.uuid4().hex[:6]}"
    lam = a.client("lambda")  # the administrator deploys
    lam.create_function(**_function(name, role, key["Arn"]))
    _arn, caller = a.role({"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "*"})
    invoker = a.client("lambda", caller)

    answer = invoker.invoke(FunctionName=name, Payload=b"{}")
    assert json.loads(answer["Payload"].read()) == {"ran": name}

    (grant,) = kms.list_grants(KeyId=key["Arn"])["Grants"]
    kms.revoke_grant(KeyId=key["Arn"], GrantId=grant["GrantId"])
    with pytest.raises(ClientError) as refused:
        invoker.invoke(FunctionName=name, Payload=b"{}")
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    assert error["Code"] == "KMSAccessDeniedException"
    assert error["Message"] == (
        "Lambda was unable to decrypt the environment variables because KMS access was denied. "
        "Please check the function's KMS key settings. KMS Exception: AccessDeniedExceptionKMS "
        f"Message: User: arn:aws:sts::{A}:assumed-role/{role.rsplit('/', 1)[-1]}/{name} is not "
        f"authorized to perform: kms:Decrypt on resource: {key['Arn']} because no "
        "identity-based policy allows the kms:Decrypt action"
    )

    # without the grant, the key policy and the role's policy may allow it (matched on
    # aws:PrincipalArn, as shared-modules/kms-key does for workload roles)
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:root"},
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {"ArnEquals": {"aws:PrincipalArn": role}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{A}:role/batchops-local-admin"},
                "Action": "kms:*",
                "Resource": "*",
            },
        ],
    }
    kms.put_key_policy(KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(key_policy))
    a.client("iam").put_role_policy(
        RoleName=role.rsplit("/", 1)[-1],
        PolicyName="decrypt",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]}],
            }
        ),
    )
    assert json.loads(invoker.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())
    a.client("iam").delete_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="decrypt")

    # configuring the key again creates the grant again
    lam.update_function_configuration(FunctionName=name, KMSKeyArn=key["Arn"])
    assert json.loads(invoker.invoke(FunctionName=name, Payload=b"{}")["Payload"].read())

    kms.disable_key(KeyId=key["KeyId"])
    with pytest.raises(ClientError) as disabled:
        invoker.invoke(FunctionName=name, Payload=b"{}")
    assert disabled.value.response["Error"]["Code"] == "KMSDisabledException"
    kms.enable_key(KeyId=key["KeyId"])


def test_a_job_volume_key_needs_the_roles_create_grant_for_an_aws_resource(a: Account) -> None:
    """SageMaker creates a grant on a job's VolumeKmsKeyId with the job's role: the role needs
    kms:CreateGrant with kms:GrantIsForAWSResource (what shared-modules/sagemaker-execution-
    role gives it); the step fails before it starts otherwise."""
    from types import SimpleNamespace

    from batchops.localcloud.executor.context import StepFailed, volume_key

    key = a.client("kms").create_key()["KeyMetadata"]
    ctx = SimpleNamespace(options={"authorization": "enforce"}, account_id=A, region=REGION)
    field = "ResourceConfig.VolumeKmsKeyId"
    role, _session = a.role({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]})
    with pytest.raises(StepFailed) as refused:
        volume_key(ctx, key["Arn"], field, role)  # type: ignore[arg-type]
    assert refused.value.reason.startswith(
        f"ClientError: the role cannot create a grant on {field} {key['Arn']}"
    )
    assert "kms:CreateGrant" in refused.value.reason
    granting, _session = a.role(
        {
            "Effect": "Allow",
            "Action": "kms:CreateGrant",
            "Resource": key["Arn"],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        }
    )
    volume_key(ctx, key["Arn"], field, granting)  # type: ignore[arg-type]
    volume_key(SimpleNamespace(**{**vars(ctx), "options": {}}), key["Arn"], field, role)  # type: ignore[arg-type]
    with pytest.raises(StepFailed) as aliased:
        volume_key(ctx, f"arn:aws:kms:{REGION}:{A}:alias/x", field, granting)  # type: ignore[arg-type]
    assert aliased.value.reason.startswith(f"ValidationException: {field}")
