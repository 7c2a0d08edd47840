"""``batchops local up --authorization enforce`` checks permissions as IAM does, and says so."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from batchops.aws import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

pytestmark = [pytest.mark.localcloud]


@contextmanager
def local_up(tmp_path: Any, *flags: str) -> Iterator[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHOPS_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "batchops", "local", "up", "--no-bootstrap", "--json", *flags],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**env, "HOME": os.environ.get("HOME", str(tmp_path))},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("{"), f"local up printed {line!r}: {process.stderr.read()}"
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()


def _list_buckets_as_a_role_without_policies(endpoint: str) -> Any:
    admin = {
        "endpoint_url": endpoint,
        "region_name": "us-east-1",
        "aws_access_key_id": LOCAL_ACCESS_KEY,
        "aws_secret_access_key": LOCAL_SECRET_KEY,
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = boto3.client("iam", **admin).create_role(
        RoleName="nothing-allowed", AssumeRolePolicyDocument=json.dumps(trust)
    )["Role"]["Arn"]
    creds = boto3.client("sts", **admin).assume_role(RoleArn=role, RoleSessionName="tester")[
        "Credentials"
    ]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    return s3.list_buckets()


def test_local_up_enforces_when_asked_and_reports_it(tmp_path: Any) -> None:
    with local_up(tmp_path, "--authorization", "enforce") as started:
        assert started["authorization"] == "enforced"
        with pytest.raises(ClientError) as refused:
            _list_buckets_as_a_role_without_policies(started["endpoint"])
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert "s3:ListAllMyBuckets" in refused.value.response["Error"]["Message"]


def test_local_up_is_permissive_by_default_and_says_so(tmp_path: Any) -> None:
    with local_up(tmp_path) as started:
        assert started["authorization"] == "off"
        assert "Buckets" in _list_buckets_as_a_role_without_policies(started["endpoint"])
