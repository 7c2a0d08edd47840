"""Every object batchops writes names the account's key by its ARN, as the bucket demands.

The data bucket's policy (``shared-modules/data-bucket``) denies ``PutObject`` unless
``s3:x-amz-server-side-encryption-aws-kms-key-id`` equals the key ARN; S3 compares the
header as sent, so naming the alias (what ``config/*.yaml`` holds) is refused. These tests
watch the requests the writers send to the local cloud and compare the header with the
key ARN ``kms:DescribeKey`` returns for the alias. (That the local cloud itself refuses a
put under the alias is the permission-enforcement work's test.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from batchops.config import load_settings
from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.data.upload import upload_files
from batchops.kms import KEY_ARN
from batchops.pipelines.build import KMS_KEY_PARAMETER, build
from batchops.pipelines.deploy import upsert
from batchops.pipelines.project import project


def _watch_puts(clients: Any) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    events = clients.client("s3").meta.events
    for operation in ("PutObject", "CreateMultipartUpload"):
        events.register(f"provide-client-params.s3.{operation}", record)
    return sent


def _key_arn(clients: Any, env: str) -> str:
    alias = load_settings(env).kms_key
    arn = clients.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    assert KEY_ARN.match(arn) and arn != alias
    return str(arn)


def test_data_upload_names_the_key_arn(account, tmp_path: Path) -> None:
    clients = account("staging")
    sent = _watch_puts(clients)
    files = generate(tmp_path, rows=30, seed=3).files
    upload_files(
        load_settings("staging"),
        clients,
        {
            Layout.INFERENCE: files[Layout.INFERENCE],
            Layout.GROUND_TRUTH: files[Layout.GROUND_TRUTH],
        },
        batch_id="kms-check",
    )
    assert sent
    assert {(p.get("ServerSideEncryption"), p.get("SSEKMSKeyId")) for p in sent} == {
        ("aws:kms", _key_arn(clients, "staging"))
    }


def test_upsert_uploads_assets_under_the_key_arn_and_stamps_it_into_the_pipeline(
    account,
) -> None:
    clients = account("data-science")
    settings = load_settings("data-science")
    proj = project("model-build")
    built = build(proj, proj.spec("training"), settings)
    for key in built.assets:  # so that every asset is uploaded, none skipped as current
        clients.client("s3").delete_object(Bucket=settings.bucket_name, Key=key)
    sent = _watch_puts(clients)
    upsert(clients, settings, built)
    arn = _key_arn(clients, "data-science")
    assert len(sent) == len(built.assets)
    assert {p.get("SSEKMSKeyId") for p in sent} == {arn}
    stored = json.loads(
        clients.client("sagemaker").describe_pipeline(PipelineName=built.pipeline_name)[
            "PipelineDefinition"
        ]
    )
    defaults = {p["Name"]: p.get("DefaultValue") for p in stored["Parameters"]}
    assert defaults[KMS_KEY_PARAMETER] == arn


def test_deployment_history_names_the_key_arn(account) -> None:
    from batchops.deploy import _write_history, read_history

    clients = account("staging")
    settings = load_settings("staging")
    history = read_history(clients, settings)
    sent = _watch_puts(clients)
    _write_history(clients, settings, history)
    assert [p.get("SSEKMSKeyId") for p in sent] == [_key_arn(clients, "staging")]
