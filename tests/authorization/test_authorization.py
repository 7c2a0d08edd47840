"""The local cloud refuses what IAM refuses (issue 14), with AWS's error code and message.

The cloud, its accounts ``a``/``b`` and their roles come from ``conftest.py``.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3
import pytest

from batchops.localcloud.server import LocalCloud

from .conftest import REGION, A, Account, B, _denied, _via


def test_a_role_without_s3_get_object_cannot_read_an_object(a: Account) -> None:
    bucket = a.bucket()
    arn, session = a.role({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})
    s3 = a.client("s3", session)
    s3.list_objects_v2(Bucket=bucket)  # what the policy allows works
    error = _denied(s3.get_object, Bucket=bucket, Key="data/x.csv")
    assert error["Code"] == "AccessDenied"
    role = arn.rsplit("/", 1)[-1]
    assert error["Message"] == (
        f"User: arn:aws:sts::{A}:assumed-role/{role}/worker is not authorized to perform: "
        f's3:GetObject on resource: "arn:aws:s3:::{bucket}/data/x.csv" because no '
        "identity-based policy allows the s3:GetObject action"
    )


def test_an_explicit_deny_on_a_prefix_wins_over_an_allow_on_the_bucket(a: Account) -> None:
    bucket = a.bucket()
    _arn, session = a.role(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Action": "s3:Get*", "Resource": f"arn:aws:s3:::{bucket}/secret/*"},
    )
    s3 = a.client("s3", session)
    assert s3.get_object(Bucket=bucket, Key="data/x.csv")["Body"].read() == b"1,2\n"
    error = _denied(s3.get_object, Bucket=bucket, Key="secret/y.csv")
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith("with an explicit deny in an identity-based policy")


def test_a_policy_write_takes_effect_on_the_next_request(a: Account) -> None:
    """Parsed policies are cached by their text: a new identity policy, an attached managed
    policy or a new bucket policy is what the very next request is judged by."""
    bucket = a.bucket()
    arn, session = a.role({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    role = arn.rsplit("/", 1)[-1]
    s3, iam = a.client("s3", session), a.client("iam")
    assert s3.get_object(Bucket=bucket, Key="data/x.csv")["Body"].read() == b"1,2\n"
    deny = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    iam.put_role_policy(
        RoleName=role,
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
    )
    assert _denied(s3.get_object, Bucket=bucket, Key="data/x.csv")["Code"] == "AccessDenied"

    managed = iam.create_policy(
        PolicyName=f"m-{uuid.uuid4().hex[:8]}",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{**deny, "Effect": "Allow"}]}
        ),
    )["Policy"]["Arn"]
    iam.delete_role_policy(RoleName=role, PolicyName="p")
    assert _denied(s3.get_object, Bucket=bucket, Key="data/x.csv")["Code"] == "AccessDenied"
    iam.attach_role_policy(RoleName=role, PolicyArn=managed)
    assert s3.get_object(Bucket=bucket, Key="data/x.csv")["Body"].read() == b"1,2\n"
    iam.create_policy_version(
        PolicyArn=managed,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
        SetAsDefault=True,
    )
    assert _denied(s3.get_object, Bucket=bucket, Key="data/x.csv")["Code"] == "AccessDenied"

    # no identity policy left: the bucket policy naming the role decides, then no longer does
    iam.detach_role_policy(RoleName=role, PolicyArn=managed)
    for principal, allowed in ((arn, True), (f"arn:aws:iam::{a.id}:role/another", False)):
        allow = {**deny, "Effect": "Allow", "Principal": {"AWS": principal}}
        a.client("s3").put_bucket_policy(
            Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow]})
        )
        if allowed:
            assert s3.get_object(Bucket=bucket, Key="data/x.csv")["Body"].read() == b"1,2\n"
        else:
            error = _denied(s3.get_object, Bucket=bucket, Key="data/x.csv")
            assert error["Code"] == "AccessDenied", error


def test_a_cross_account_read_needs_both_the_identity_and_the_bucket_policy(
    a: Account, b: Account
) -> None:
    read = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"}
    # bucket policy allows account B; B's role has no identity permission
    allowing = a.bucket(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::*/*",
                }
            ],
        }
    )
    _arn, without_identity = b.role()
    error = _denied(b.client("s3", without_identity).get_object, Bucket=allowing, Key="data/x.csv")
    assert error["Code"] == "AccessDenied"
    assert "because no identity-based policy allows the s3:GetObject action" in error["Message"]
    # B's role allows; the bucket has no policy for B
    silent = a.bucket()
    _arn, with_identity = b.role(read)
    error = _denied(b.client("s3", with_identity).get_object, Bucket=silent, Key="data/x.csv")
    assert error["Code"] == "AccessDenied"
    assert "because no resource-based policy allows the s3:GetObject action" in error["Message"]
    # both sides allow
    body = b.client("s3", with_identity).get_object(Bucket=allowing, Key="data/x.csv")["Body"]
    assert body.read() == b"1,2\n"


def test_decrypting_with_a_key_whose_policy_does_not_name_the_caller_is_refused(
    a: Account,
) -> None:
    everything = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
    arn, session = a.role(everything)
    kms_admin = a.client("kms")
    # a key whose policy names only another role (not the account: IAM policies do not count)
    other = f"arn:aws:iam::{A}:role/someone-else"
    closed = kms_admin.create_key(
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": other},
                        "Action": "kms:*",
                        "Resource": "*",
                    }
                ],
            }
        )
    )["KeyMetadata"]
    blob = kms_admin.encrypt(KeyId=closed["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    kms = a.client("kms", session)
    error = _denied(kms.decrypt, CiphertextBlob=blob)
    assert error["Code"] == "AccessDeniedException"
    role = arn.rsplit("/", 1)[-1]
    assert error["Message"] == (
        f"User: arn:aws:sts::{A}:assumed-role/{role}/worker is not authorized to perform: "
        f"kms:Decrypt on resource: {closed['Arn']} because no resource-based policy allows "
        "the kms:Decrypt action"
    )
    # the default key policy names the account: the role's identity policy decides
    opened = kms_admin.create_key()["KeyMetadata"]
    blob = kms_admin.encrypt(KeyId=opened["KeyId"], Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    _arn, nothing = a.role()
    error = _denied(a.client("kms", nothing).decrypt, CiphertextBlob=blob)
    assert "because no identity-based policy allows the kms:Decrypt action" in error["Message"]


def test_a_put_whose_kms_key_header_does_not_satisfy_the_bucket_policy_is_refused(
    a: Account,
) -> None:
    kms_admin = a.client("kms")
    key = kms_admin.create_key()["KeyMetadata"]
    kms_admin.create_alias(AliasName=f"alias/k-{uuid.uuid4().hex[:6]}", TargetKeyId=key["KeyId"])
    alias = kms_admin.list_aliases(KeyId=key["KeyId"])["Aliases"][0]["AliasName"]
    bucket = a.bucket(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::*/*",
                    "Condition": {
                        "StringNotEquals": {
                            "s3:x-amz-server-side-encryption-aws-kms-key-id": key["Arn"]
                        }
                    },
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        }
    )
    _arn, session = a.role(
        {"Effect": "Allow", "Action": ["s3:PutObject", "kms:GenerateDataKey"], "Resource": "*"}
    )
    s3 = a.client("s3", session)
    error = _denied(
        s3.put_object,
        Bucket=bucket,
        Key="out/a.csv",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=alias,  # S3 compares the header as sent: the alias is not the ARN
    )
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith("with an explicit deny in a resource-based policy")
    error = _denied(s3.put_object, Bucket=bucket, Key="out/a.csv", Body=b"x")
    assert error["Code"] == "AccessDenied"
    s3.put_object(
        Bucket=bucket,
        Key="out/a.csv",
        Body=b"x",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key["Arn"],
    )


def test_a_role_without_get_secret_value_cannot_read_a_secret(a: Account) -> None:
    secrets = a.client("secretsmanager")
    name = f"s-{uuid.uuid4().hex[:6]}"
    secrets.create_secret(Name=name, SecretString="token")
    _arn, reader = a.role(
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    )
    assert a.client("secretsmanager", reader).get_secret_value(SecretId=name)["SecretString"] == (
        "token"
    )
    _arn, other = a.role({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    error = _denied(a.client("secretsmanager", other).get_secret_value, SecretId=name)
    assert error["Code"] == "AccessDeniedException"
    assert "secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:" in error["Message"]


def test_a_secret_under_a_customer_key_needs_the_callers_decrypt_through_secrets_manager(
    a: Account,
) -> None:
    """Secrets Manager decrypts as the caller: GetSecretValue alone is not enough."""
    key = a.client("kms").create_key()["KeyMetadata"]  # default policy: IAM policies decide
    secrets = a.client("secretsmanager")
    name = f"s-{uuid.uuid4().hex[:6]}"
    secrets.create_secret(Name=name, SecretString="token", KmsKeyId=key["Arn"])
    read = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
    _arn, reader = a.role(read)
    error = _denied(a.client("secretsmanager", reader).get_secret_value, SecretId=name)
    assert (error["Code"], error["Message"]) == (
        "AccessDeniedException",
        "Access to KMS is not allowed",
    )
    # kms:Decrypt only when Secrets Manager asks for it, as the project's policies grant it
    via = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": key["Arn"],
        "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com"}},
    }
    _arn, allowed = a.role(read, via)
    value = a.client("secretsmanager", allowed).get_secret_value(SecretId=name)
    assert value["SecretString"] == "token"
    # and the same condition does not let the role decrypt with KMS directly
    blob = a.client("kms").encrypt(KeyId=key["KeyId"], Plaintext=b"x")["CiphertextBlob"]
    assert _denied(a.client("kms", allowed).decrypt, CiphertextBlob=blob)["Code"] == (
        "AccessDeniedException"
    )


def test_an_sqs_queue_under_a_customer_key_needs_the_callers_kms_permissions(
    a: Account,
) -> None:
    """Sending to an SSE-KMS queue needs kms:GenerateDataKey and kms:Decrypt, receiving
    kms:Decrypt, through SQS (KMS.AccessDeniedException otherwise); sqs:SendMessage on another
    queue's ARN does not reach this one (the queue policy is evaluated too)."""
    key = a.client("kms").create_key()["KeyMetadata"]  # default policy: IAM policies decide
    sqs = a.client("sqs")
    url = sqs.create_queue(
        QueueName=f"q-{uuid.uuid4().hex[:6]}", Attributes={"KmsMasterKeyId": key["Arn"]}
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}
    _arn, sender = a.role(send)
    error = _denied(a.client("sqs", sender).send_message, QueueUrl=url, MessageBody="m")
    assert error["Code"] == "KMS.AccessDeniedException"
    assert f"kms:GenerateDataKey on resource: {key['Arn']}" in error["Message"]
    _arn, half = a.role(send, _via("sqs", key["Arn"], "kms:GenerateDataKey"))
    error = _denied(a.client("sqs", half).send_message, QueueUrl=url, MessageBody="m")
    assert f"kms:Decrypt on resource: {key['Arn']}" in error["Message"]
    _arn, producer = a.role(send, _via("sqs", key["Arn"], "kms:GenerateDataKey", "kms:Decrypt"))
    assert a.client("sqs", producer).send_message(QueueUrl=url, MessageBody="m")["MessageId"]

    receive = {"Effect": "Allow", "Action": "sqs:ReceiveMessage", "Resource": queue_arn}
    _arn, reader = a.role(receive)
    error = _denied(a.client("sqs", reader).receive_message, QueueUrl=url)
    assert error["Code"] == "KMS.AccessDeniedException"
    _arn, consumer = a.role(receive, _via("sqs", key["Arn"], "kms:Decrypt"))
    assert a.client("sqs", consumer).receive_message(QueueUrl=url)["Messages"][0]["Body"] == "m"

    other = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": f"{queue_arn}-other"}
    _arn, elsewhere = a.role(other, _via("sqs", key["Arn"], "kms:GenerateDataKey", "kms:Decrypt"))
    error = _denied(a.client("sqs", elsewhere).send_message, QueueUrl=url, MessageBody="m")
    assert error["Code"] == "AccessDenied"
    assert f"sqs:SendMessage on resource: {queue_arn}" in error["Message"]


def test_a_dynamodb_table_under_a_customer_key_needs_the_callers_decrypt_through_dynamodb(
    a: Account,
) -> None:
    """An item of a table encrypted with a customer managed key needs the caller's
    kms:Decrypt through DynamoDB; the table is the request's resource (a grant on another
    table does not reach it)."""
    key = a.client("kms").create_key()["KeyMetadata"]
    name = f"t-{uuid.uuid4().hex[:6]}"
    a.client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key["Arn"]},
    )
    table_arn = f"arn:aws:dynamodb:{REGION}:{A}:table/{name}"
    items = {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"]}
    item = {"pk": {"S": "k"}}
    _arn, writer = a.role({**items, "Resource": table_arn})
    error = _denied(a.client("dynamodb", writer).put_item, TableName=name, Item=item)
    assert error["Code"] == "AccessDeniedException"
    assert f"kms:Decrypt on resource: {key['Arn']}" in error["Message"]
    _arn, allowed = a.role(
        {**items, "Resource": table_arn}, _via("dynamodb", key["Arn"], "kms:Decrypt")
    )
    client = a.client("dynamodb", allowed)
    client.put_item(TableName=name, Item=item)
    assert client.get_item(TableName=name, Key=item)["Item"] == item
    _arn, elsewhere = a.role(
        {**items, "Resource": f"{table_arn}-other"}, _via("dynamodb", key["Arn"], "kms:Decrypt")
    )
    error = _denied(a.client("dynamodb", elsewhere).get_item, TableName=name, Key=item)
    assert error["Code"] == "AccessDeniedException"
    assert f"dynamodb:GetItem on resource: {table_arn}" in error["Message"]


def test_the_administrator_is_unchecked_and_get_caller_identity_always_works(a: Account) -> None:
    bucket = a.bucket()  # no policy at all: the administrator acts like root
    assert a.client("s3").get_object(Bucket=bucket, Key="data/x.csv")["Body"].read()
    _arn, session = a.role(
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    )
    identity = a.client("sts", session).get_caller_identity()
    assert identity["Account"] == A


def test_enforcement_off_lets_a_role_without_policies_read(a: Account, cloud: LocalCloud) -> None:
    bucket = a.bucket()
    _arn, session = a.role()
    cloud.options["authorization"] = "off"
    try:
        assert a.client("s3", session).get_object(Bucket=bucket, Key="data/x.csv")
    finally:
        cloud.options["authorization"] = "enforce"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        (
            '{"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}',
            "Invalid effect: Maybe",
        ),
    ],
)
def test_a_policy_that_does_not_parse_is_refused_when_it_is_put(
    a: Account, document: str, message: str
) -> None:
    bucket = a.bucket()
    error = _denied(a.client("s3").put_bucket_policy, Bucket=bucket, Policy=document)
    assert (error["Code"], error["Message"]) == ("MalformedPolicy", message)
    key = a.client("kms").create_key()["KeyMetadata"]["KeyId"]
    error = _denied(
        a.client("kms").put_key_policy, KeyId=key, PolicyName="default", Policy=document
    )
    assert error["Code"] == "MalformedPolicyDocumentException"
    secrets = a.client("secretsmanager")
    name = f"s-{uuid.uuid4().hex[:6]}"
    secrets.create_secret(Name=name, SecretString="x")
    error = _denied(secrets.put_resource_policy, SecretId=name, ResourcePolicy=document)
    assert error["Code"] == "MalformedPolicyDocumentException"
    _arn, _session = a.role()
    error = _denied(
        a.client("iam").put_role_policy,
        RoleName=_arn.rsplit("/", 1)[-1],
        PolicyName="bad",
        PolicyDocument=document,
    )
    assert error["Code"] == "MalformedPolicyDocument"


def test_local_credentials_print_the_administrator_and_a_role_session(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str]
) -> None:
    from batchops.cli.main import main
    from batchops.config import load_settings

    settings = load_settings("staging")
    account = Account(cloud.endpoint, settings.account_id)
    bucket = account.bucket()
    role_arn, _session = account.role()
    role = role_arn.rsplit("/", 1)[-1]

    assert (
        main(["local", "credentials", "--env", "staging", "--endpoint", cloud.endpoint, "--json"])
        == 0
    )
    admin = json.loads(capsys.readouterr().out)
    assert set(admin) >= {"AccessKeyId", "SecretAccessKey", "SessionToken", "Account"}
    assert admin["Account"] == settings.account_id
    as_admin = boto3.Session(
        aws_access_key_id=admin["AccessKeyId"],
        aws_secret_access_key=admin["SecretAccessKey"],
        aws_session_token=admin["SessionToken"],
        region_name=REGION,
    )
    assert account.client("s3", as_admin).get_object(Bucket=bucket, Key="data/x.csv")

    argv = [
        "local",
        "credentials",
        "--env",
        "staging",
        "--role",
        role,
        "--endpoint",
        cloud.endpoint,
    ]
    assert main(argv) == 0
    lines = dict(
        line.removeprefix("export ").split("=", 1) for line in capsys.readouterr().out.splitlines()
    )
    as_role = boto3.Session(
        aws_access_key_id=lines["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=lines["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=lines["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )
    identity = account.client("sts", as_role).get_caller_identity()
    assert identity["Arn"].startswith(f"arn:aws:sts::{settings.account_id}:assumed-role/{role}/")
    error = _denied(account.client("s3", as_role).get_object, Bucket=bucket, Key="data/x.csv")
    assert error["Code"] == "AccessDenied"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env", "qa"], "unknown environment 'qa'"),
        (["--env", "staging", "--role", "no-such-role"], "role 'no-such-role' does not exist"),
    ],
)
def test_local_credentials_for_an_unknown_environment_or_role_is_one_line(
    cloud: LocalCloud, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    from batchops.cli.main import main

    assert main(["local", "credentials", *argv, "--endpoint", cloud.endpoint]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err


def test_sse_kms_objects_need_the_callers_kms_permissions_through_s3(a: Account) -> None:
    kms_admin = a.client("kms")
    key = kms_admin.create_key()["KeyMetadata"]  # default policy: the account's IAM decides
    bucket = a.bucket()
    a.client("s3").put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": key["Arn"],
                    }
                }
            ]
        },
    )
    s3_only = {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "*"}
    _arn, no_kms = a.role(s3_only)
    error = _denied(a.client("s3", no_kms).put_object, Bucket=bucket, Key="k/a", Body=b"x")
    assert error["Code"] == "AccessDenied"
    assert (
        f"kms:GenerateDataKey on resource: {key['Arn']} because no identity-based"
        in (error["Message"])
    )
    via_s3 = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key["Arn"],
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}},
    }
    _arn, writer = a.role(s3_only, via_s3)
    a.client("s3", writer).put_object(Bucket=bucket, Key="k/a", Body=b"x")
    assert a.client("s3", writer).get_object(Bucket=bucket, Key="k/a")["Body"].read() == b"x"
    error = _denied(a.client("s3", no_kms).get_object, Bucket=bucket, Key="k/a")
    assert "kms:Decrypt on resource" in error["Message"]
    # the same permission outside S3 (kms:ViaService absent) does not decrypt directly
    blob = kms_admin.encrypt(KeyId=key["KeyId"], Plaintext=b"p")["CiphertextBlob"]
    error = _denied(a.client("kms", writer).decrypt, CiphertextBlob=blob)
    assert error["Code"] == "AccessDeniedException"


def _unsigned(**claims: Any) -> str:
    import base64

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'k'})}.{part(claims)}.c2ln"


def test_assume_role_with_web_identity_checks_the_provider_and_the_trust_policy(
    a: Account, cloud: LocalCloud
) -> None:
    import time

    from batchops.localcloud.gitlab.id_tokens import IdTokenIssuer

    host = f"gitlab-{uuid.uuid4().hex[:6]}.example.com"
    # an identity provider STS can reach (its keys), as GitLab.com is reachable from AWS
    issuer = IdTokenIssuer(f"https://{host}")
    cloud.identity_providers[issuer.issuer] = issuer.jwks
    stranger = IdTokenIssuer(f"https://{host}")  # the same URL, another key

    def _token(**claims: Any) -> str:
        return issuer.mint(
            {k: v for k, v in claims.items() if k != "exp"},
            lifetime_s=int(claims["exp"] - time.time()),
        )

    iam = a.client("iam")
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{host}",
        ClientIDList=["https://gitlab.example.com"],
        ThumbprintList=["a" * 40],
    )["OpenIDConnectProviderArn"]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{host}:aud": "https://gitlab.example.com"},
                    "StringLike": {
                        f"{host}:sub": "project_path:ml/batchops:ref_type:branch:ref:main"
                    },
                },
            }
        ],
    }
    name = f"deploy-{uuid.uuid4().hex[:6]}"
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    sts = boto3.client(
        "sts",
        endpoint_url=a.endpoint,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    good = {
        "iss": f"https://{host}",
        "aud": "https://gitlab.example.com",
        "sub": "project_path:ml/batchops:ref_type:branch:ref:main",
        "exp": int(time.time()) + 300,
    }

    def assume(token: str) -> Any:
        return sts.assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="ci", WebIdentityToken=token
        )

    assert assume(_token(**good))["AssumedRoleUser"]["Arn"].startswith(
        f"arn:aws:sts::{A}:assumed-role/{name}/"
    )
    for claims, code in [
        ({**good, "sub": "project_path:ml/batchops:ref_type:branch:ref:feature"}, "AccessDenied"),
        ({**good, "sub": "project_path:other/project:ref_type:branch:ref:main"}, "AccessDenied"),
        ({**good, "aud": "sts.amazonaws.com"}, "InvalidIdentityToken"),
        ({**good, "iss": "https://gitlab.evil.example"}, "InvalidIdentityToken"),
        ({**good, "exp": int(time.time()) - 5}, "ExpiredTokenException"),
    ]:
        assert _denied(assume, token=_token(**claims))["Code"] == code, claims
    assert _denied(assume, token="not-a-jwt")["Code"] == "InvalidIdentityToken"
    # the signature: unsigned, signed by another key, or a claim changed after signing
    for token in [
        _unsigned(**good),
        stranger.mint({k: v for k, v in good.items() if k != "exp"}),
        _token(**good).rsplit(".", 1)[0] + "." + _token(**good).rsplit(".", 1)[1][::-1],
    ]:
        error = _denied(assume, token=token)
        assert error["Code"] == "InvalidIdentityToken", token
        assert "could not be validated" in error["Message"]
    header, _body, signature = _token(**good).split(".")
    forged = _unsigned(**{**good, "sub": "project_path:ml/batchops:ref_type:branch:ref:main"})
    assert (
        _denied(assume, token=".".join([header, forged.split(".")[1], signature]))["Code"]
        == "InvalidIdentityToken"
    )


def test_an_explicit_deny_in_a_bucket_policy_answers_aws_access_denied(a: Account) -> None:
    """moto's own bucket-policy check answered a bare 403 (botocore: code "403",
    "Forbidden"); S3 answers ``AccessDenied`` naming the caller, the action, the quoted
    resource and the resource-based policy. The administrator, unchecked here, gets S3's
    ``AccessDenied`` document too."""
    bucket = a.bucket()
    arn, session = a.role({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/data/*",
    }
    a.client("s3").put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [deny]})
    )
    error = _denied(a.client("s3", session).get_object, Bucket=bucket, Key="data/x.csv")
    assert error["Code"] == "AccessDenied", error
    assert error["Message"] == (
        f"User: arn:aws:sts::{a.id}:assumed-role/{arn.rsplit('/', 1)[-1]}/worker is not "
        f'authorized to perform: s3:GetObject on resource: "arn:aws:s3:::{bucket}/data/x.csv" '
        "with an explicit deny in a resource-based policy"
    )
    admin = _denied(a.client("s3").get_object, Bucket=bucket, Key="data/x.csv")
    assert admin == {"Code": "AccessDenied", "Message": "Access Denied"}


def test_an_iam_refusal_names_the_resource_the_request_names(a: Account) -> None:
    """IAM evaluates the role, policy or OIDC provider a request names, as its ARN: a
    statement scoped to other roles does not reach this one, and the refusal names it."""
    _arn, session = a.role(
        {
            "Effect": "Allow",
            "Action": ["iam:GetRole", "iam:CreateOpenIDConnectProvider"],
            "Resource": [
                f"arn:aws:iam::{A}:role/batchops-*",
                f"arn:aws:iam::{A}:oidc-provider/gitlab.allowed.example",
            ],
        }
    )
    iam_admin, iam = a.client("iam"), a.client("iam", session)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    for name in ("batchops-x", "other-x"):
        iam_admin.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    assert iam.get_role(RoleName="batchops-x")["Role"]["RoleName"] == "batchops-x"
    error = _denied(iam.get_role, RoleName="other-x")
    assert error["Code"] == "AccessDenied"
    assert f"iam:GetRole on resource: arn:aws:iam::{A}:role/other-x because" in error["Message"]
    thumbprint = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
    error = _denied(
        iam.create_open_id_connect_provider,
        Url="https://gitlab.other.example",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=thumbprint,
    )
    assert (
        f"on resource: arn:aws:iam::{A}:oidc-provider/gitlab.other.example because"
        in error["Message"]
    )
    created = iam.create_open_id_connect_provider(
        Url="https://gitlab.allowed.example",
        ClientIDList=["sts.amazonaws.com"],
        ThumbprintList=thumbprint,
    )
    assert created["OpenIDConnectProviderArn"].endswith(":oidc-provider/gitlab.allowed.example")


def _managed_policy(a: Account, *statements: dict[str, Any]) -> str:
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    name = f"boundary-{uuid.uuid4().hex[:8]}"
    return str(
        a.client("iam").create_policy(PolicyName=name, PolicyDocument=document)["Policy"]["Arn"]
    )


def test_a_permissions_boundary_caps_what_the_roles_policies_allow(a: Account) -> None:
    """IAM allows only what both the identity policy and the role's permissions boundary
    allow; an explicit Deny in the boundary wins; a bucket policy naming the role is capped
    too, one naming the role's session is not."""
    bucket = a.bucket()
    arn, session = a.role({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    role = arn.rsplit("/", 1)[-1]
    boundary = _managed_policy(
        a,
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret/*"},
    )
    a.client("iam").put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    s3 = a.client("s3", session)
    assert s3.get_object(Bucket=bucket, Key="data/x.csv")["Body"].read() == b"1,2\n"
    error = _denied(s3.list_objects_v2, Bucket=bucket)
    assert error["Code"] == "AccessDenied"
    assert error["Message"].endswith(
        "because no permissions boundary allows the s3:ListBucket action"
    )
    error = _denied(s3.get_object, Bucket=bucket, Key="secret/y.csv")
    assert error["Message"].endswith("with an explicit deny in a permissions boundary")

    # a bucket policy naming the role is capped by the boundary; naming the session is not
    put = {"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    for principal, allowed in (
        (arn, False),
        (f"arn:aws:sts::{A}:assumed-role/{role}/worker", True),
    ):
        policy = {"Version": "2012-10-17", "Statement": [{**put, "Principal": {"AWS": principal}}]}
        a.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
        a.client("iam").put_role_policy(
            RoleName=role,
            PolicyName="p",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
                }
            ),
        )
        if allowed:
            s3.put_object(Bucket=bucket, Key="data/new.csv", Body=b"3,4\n")
        else:
            error = _denied(s3.put_object, Bucket=bucket, Key="data/new.csv", Body=b"3,4\n")
            assert (
                "because no permissions boundary allows the s3:PutObject action"
                in (error["Message"])
            )

    a.client("iam").delete_role_permissions_boundary(RoleName=role)
    # the role's own policy alone again: what the boundary denied is allowed
    assert s3.get_object(Bucket=bucket, Key="secret/y.csv")["Body"].read() == b"1,2\n"


def test_a_role_may_have_to_create_roles_under_a_permissions_boundary(a: Account) -> None:
    """``iam:PermissionsBoundary`` is the boundary a CreateRole asks for, so an organisation's
    rule "every role CI creates carries our boundary" holds locally as on AWS."""
    boundary = _managed_policy(a, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    _arn, session = a.role(
        {
            "Effect": "Allow",
            "Action": "iam:CreateRole",
            "Resource": f"arn:aws:iam::{A}:role/ci-*",
            "Condition": {"StringEquals": {"iam:PermissionsBoundary": boundary}},
        }
    )
    iam = a.client("iam", session)
    trust = json.dumps({"Version": "2012-10-17", "Statement": []})
    name = f"ci-{uuid.uuid4().hex[:6]}"
    error = _denied(iam.create_role, RoleName=name, AssumeRolePolicyDocument=trust)
    assert f"iam:CreateRole on resource: arn:aws:iam::{A}:role/{name} because" in error["Message"]
    created = iam.create_role(
        RoleName=name, AssumeRolePolicyDocument=trust, PermissionsBoundary=boundary
    )
    assert created["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == boundary
