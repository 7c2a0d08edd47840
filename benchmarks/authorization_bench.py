"""What the local cloud's IAM authorization costs per request, against plain moto.

Three sides, each in its own process (moto's backends and the local cloud's extensions are
process-wide): plain moto (``moto.server.ThreadedMotoServer``, no extensions, no checks),
the local cloud with authorization off, and the local cloud enforcing it
(``options["authorization"] = "enforce"``). Every side serves the same requests from an
assumed role's session (a role with a 6-statement inline policy, a bucket with a policy, a
KMS key with its default policy, a secret): S3 ``GetObject`` and ``PutObject`` (1 KiB),
Secrets Manager ``GetSecretValue``, KMS ``Encrypt``. Mean of N requests through boto3 over
HTTP after 20 warm-up requests.

Writes ``benchmarks/results/authorization.md``. ``--requests N`` (default 300).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
ACCOUNT = "111111111111"
SIDES = ("moto", "off", "enforce")
CALLS = ("s3_get", "s3_put", "secret_get", "kms_encrypt")
LABELS = {
    "s3_get": "S3 GetObject 1 KiB",
    "s3_put": "S3 PutObject 1 KiB",
    "secret_get": "Secrets Manager GetSecretValue",
    "kms_encrypt": "KMS Encrypt",
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def worker(side: str, requests: int) -> dict[str, float]:
    import boto3

    stop: Any
    if side == "moto":
        from moto.server import ThreadedMotoServer

        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
        server.start()
        endpoint, stop = f"http://127.0.0.1:{port}", server.stop
    else:
        from batchops.localcloud.runtime import start_local_cloud

        cloud = start_local_cloud(
            state_dir=Path(tempfile.mkdtemp(prefix="authz-bench-")),
            bootstrap=False,
            options={"persist": False, "gitlab_run_jobs": False, "authorization": side},
        )
        endpoint, stop = cloud.endpoint, cloud.stop
    try:
        base = boto3.Session(
            aws_access_key_id="batchopslocal",
            aws_secret_access_key="batchopslocal",
            region_name="us-east-1",
        )

        def session_of(role_arn: str) -> Any:
            creds = base.client("sts", endpoint_url=endpoint).assume_role(
                RoleArn=role_arn, RoleSessionName="bench"
            )["Credentials"]
            return boto3.Session(
                aws_access_key_id=creds["AccessKeyId"],
                aws_secret_access_key=creds["SecretAccessKey"],
                aws_session_token=creds["SessionToken"],
                region_name="us-east-1",
            )

        admin = session_of(f"arn:aws:iam::{ACCOUNT}:role/batchops-local-admin")
        iam = admin.client("iam", endpoint_url=endpoint)
        trust = _policy(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        )
        iam.create_role(RoleName="bench", AssumeRolePolicyDocument=trust)
        iam.put_role_policy(
            RoleName="bench",
            PolicyName="bench",
            PolicyDocument=_policy(
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::bench"},
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": "arn:aws:s3:::bench/*",
                },
                {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::bench/secret/*"},
                {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
                {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"], "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "sagemaker:Describe*",
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
                },
            ),
        )
        s3_admin = admin.client("s3", endpoint_url=endpoint)
        s3_admin.create_bucket(Bucket="bench")
        if side != "moto":  # moto ignores the Condition: its Deny would refuse every put
            s3_admin.put_bucket_policy(
                Bucket="bench",
                Policy=_policy(
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": ["arn:aws:s3:::bench", "arn:aws:s3:::bench/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ),
            )
        s3_admin.put_object(Bucket="bench", Key="data/0", Body=b"x" * 1024)
        key = admin.client("kms", endpoint_url=endpoint).create_key()["KeyMetadata"]["KeyId"]
        admin.client("secretsmanager", endpoint_url=endpoint).create_secret(
            Name="bench", SecretString="token"
        )
        role = session_of(f"arn:aws:iam::{ACCOUNT}:role/bench")
        s3 = role.client("s3", endpoint_url=endpoint)
        secrets = role.client("secretsmanager", endpoint_url=endpoint)
        kms = role.client("kms", endpoint_url=endpoint)
        calls = {
            "s3_get": lambda i: s3.get_object(Bucket="bench", Key="data/0")["Body"].read(),
            "s3_put": lambda i: s3.put_object(Bucket="bench", Key=f"data/{i}", Body=b"y" * 1024),
            "secret_get": lambda i: secrets.get_secret_value(SecretId="bench"),
            "kms_encrypt": lambda i: kms.encrypt(KeyId=key, Plaintext=b"p"),
        }
        result: dict[str, float] = {}
        for name, call in calls.items():
            for index in range(20):
                call(index)
            started = time.perf_counter()
            for index in range(requests):
                call(index)
            result[name] = (time.perf_counter() - started) / requests * 1000
        return result
    finally:
        stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.requests)))
        return 0
    measured: dict[str, dict[str, float]] = {}
    for side in SIDES:
        out = subprocess.run(
            [sys.executable, __file__, "--worker", side, "--requests", str(args.requests)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        ).stdout
        measured[side] = json.loads(out.strip().splitlines()[-1])
        print(side, measured[side], file=sys.stderr)
    lines = [
        "# Authorization overhead of the local cloud",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on the shared 2-core machine while other work "
        "ran (absolute figures are noisy; the three sides ran one after the other, each in its "
        f"own process). Mean of {args.requests} requests from an assumed role's session "
        "through boto3 over HTTP, after 20 warm-up requests (`make bench-authorization`).",
        "",
        "| request | plain moto (ms) | local cloud, authorization off (ms) | enforcing (ms) "
        "| enforcing / moto | enforcing / off |",
        "|---|---|---|---|---|---|",
    ]
    for call in CALLS:
        moto, off, on = (measured[side][call] for side in SIDES)
        lines.append(
            f"| {LABELS[call]} | {moto:.2f} | {off:.2f} | {on:.2f} | {on / moto:.2f}x "
            f"| {on / off:.2f}x |"
        )
    lines += [
        "",
        "Enforcing evaluates, per request, the role's inline policy (6 statements, one with a "
        "condition), the resource's policy (the bucket's TLS-only Deny, the key's default "
        "policy) and, for S3, the SSE-KMS check; 'off' is the local cloud with every other "
        "extension (persistence off in all three). Plain moto's bucket has no policy: moto "
        "ignores a statement's Condition, so the TLS-only Deny would refuse every request.",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "authorization.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
