"""The authorization tests' local cloud (enforcement on), its accounts and roles.

Each test creates its roles and resources as the account's administrator (unchecked, like
root), then acts as an assumed role, exactly as CI and the executor act on AWS.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from batchops.aws import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from batchops.localcloud.aws.iam.authorization import ADMIN_ROLE
from batchops.localcloud.server import LocalCloud

A = "111111111111"
B = "222222222222"
REGION = "us-east-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    started = start_local_cloud(
        state_dir=Path(tmp_path_factory.mktemp("authz")),
        bootstrap=False,
        options={"persist": False, "authorization": "enforce"},
    )
    try:
        yield started
    finally:
        started.stop()


def _session(endpoint: str, role_arn: str, name: str = "test") -> boto3.Session:
    sts = boto3.client(
        "sts",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
    )
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=name)["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


class Account:
    def __init__(self, endpoint: str, account_id: str) -> None:
        self.endpoint = endpoint
        self.id = account_id
        self.admin = _session(endpoint, f"arn:aws:iam::{account_id}:role/{ADMIN_ROLE}", "admin")

    def client(self, service: str, session: boto3.Session | None = None) -> Any:
        from botocore.config import Config

        return (session or self.admin).client(
            service,
            endpoint_url=self.endpoint,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def role(self, *statements: dict[str, Any]) -> tuple[str, boto3.Session]:
        """A new role with ``statements`` as its inline policy, and a session of it."""
        iam = self.client("iam")
        name = f"r-{uuid.uuid4().hex[:8]}"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{self.id}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
            "Arn"
        ]
        if statements:
            iam.put_role_policy(
                RoleName=name,
                PolicyName="p",
                PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
            )
        return arn, _session(self.endpoint, arn, "worker")

    def bucket(self, policy: dict[str, Any] | None = None) -> str:
        name = f"b-{self.id[:3]}-{uuid.uuid4().hex[:8]}"
        s3 = self.client("s3")
        s3.create_bucket(Bucket=name)
        for key in ("data/x.csv", "secret/y.csv"):
            s3.put_object(Bucket=name, Key=key, Body=b"1,2\n")
        if policy is not None:
            s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
        return name


@pytest.fixture(scope="module")
def a(cloud: LocalCloud) -> Account:
    return Account(cloud.endpoint, A)


@pytest.fixture(scope="module")
def b(cloud: LocalCloud) -> Account:
    return Account(cloud.endpoint, B)


def _denied(call: Any, **kwargs: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as denied:
        call(**kwargs)
    return dict(denied.value.response["Error"])


def _via(service: str, key_arn: str, *actions: str) -> dict[str, Any]:
    """kms ``actions`` on ``key_arn`` only when ``service`` asks KMS for the caller."""
    return {
        "Effect": "Allow",
        "Action": list(actions),
        "Resource": key_arn,
        "Condition": {"StringEquals": {"kms:ViaService": f"{service}.{REGION}.amazonaws.com"}},
    }
