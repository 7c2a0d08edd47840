"""The local cloud keeps three accounts apart, like AWS, and sends the events AWS sends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from batchops.config import load_settings
from batchops.errors import CloudError
from batchops.localcloud.server import LocalCloud


def _events(cloud: LocalCloud, detail_type: str) -> list[dict]:
    return [e for e in cloud.bus.read() if e.get("detail-type") == detail_type]


def test_each_account_sees_only_its_own_bucket(account) -> None:
    envs = ("data-science", "staging", "production")
    own = {
        env: {load_settings(env).bucket_name, f"batchops-tfstate-{load_settings(env).account_id}"}
        for env in envs
    }
    for env in envs:
        settings = load_settings(env)
        buckets = {b["Name"] for b in account(env).client("s3").list_buckets()["Buckets"]}
        # the data bucket and the Terraform state bucket accounts/bootstrap creates; other
        # tests in this process may have added scratch buckets to the account, but no
        # account lists another account's buckets
        assert own[env] <= buckets
        for other in envs:
            if other != env:
                assert not own[other] & buckets, (env, other)
        identity = account(env).client("sts").get_caller_identity()
        assert identity["Account"] == settings.account_id


def test_bootstrap_matches_the_terraform_names(account) -> None:
    ds = account("data-science")
    settings = load_settings("data-science")
    s3 = ds.client("s3")
    encryption = s3.get_bucket_encryption(Bucket=settings.bucket_name)
    rule = encryption["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert s3.get_bucket_versioning(Bucket=settings.bucket_name)["Status"] == "Enabled"
    notification = s3.get_bucket_notification_configuration(Bucket=settings.bucket_name)
    assert "EventBridgeConfiguration" in notification
    group = ds.client("sagemaker").describe_model_package_group(
        ModelPackageGroupName=settings.model_package_group_name
    )
    assert group["ModelPackageGroupName"] == "batchops-abalone"
    aliases = {a["AliasName"] for a in ds.client("kms").list_aliases()["Aliases"]}
    assert "alias/batchops-data-science" in aliases


def test_staging_cannot_read_an_unshared_prefix_of_the_data_science_bucket(account) -> None:
    ds_settings = load_settings("data-science")
    account("data-science").client("s3").put_object(
        Bucket=ds_settings.bucket_name, Key="private/secret.txt", Body=b"x"
    )
    with pytest.raises(ClientError) as caught:
        account("staging").client("s3").get_object(
            Bucket=ds_settings.bucket_name, Key="private/secret.txt"
        )
    assert caught.value.response["Error"]["Code"] == "AccessDenied"


def test_staging_reads_shared_artifacts_and_the_registry_through_policies(account) -> None:
    ds_settings = load_settings("data-science")
    key = f"{ds_settings.bucket_prefix}/models/m.tar.gz"
    account("data-science").client("s3").put_object(
        Bucket=ds_settings.bucket_name, Key=key, Body=b"model"
    )
    body = account("staging").client("s3").get_object(Bucket=ds_settings.bucket_name, Key=key)
    assert body["Body"].read() == b"model"
    group_arn = (
        f"arn:aws:sagemaker:{ds_settings.region}:{ds_settings.account_id}:"
        f"model-package-group/{ds_settings.model_package_group_name}"
    )
    listed = (
        account("staging").client("sagemaker").list_model_packages(ModelPackageGroupName=group_arn)
    )
    assert "ModelPackageSummaryList" in listed


def test_an_object_upload_emits_the_eventbridge_object_created_event(cloud, account) -> None:
    settings = load_settings("staging")
    key = f"{settings.bucket_prefix}/{settings.bucket_inf_prefix}/b1/inference-data.csv"
    account("staging").client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=b"1")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        created = [
            e for e in _events(cloud, "Object Created") if e["detail"]["object"]["key"] == key
        ]
        if created:
            break
        time.sleep(0.05)
    assert created, "no Object Created event"
    event = created[0]
    assert event["source"] == "aws.s3"
    assert event["account"] == settings.account_id
    assert event["detail"]["bucket"]["name"] == settings.bucket_name


def test_registering_a_model_package_emits_the_state_change_event(cloud, account) -> None:
    settings = load_settings("data-science")
    sm = account("data-science").client("sagemaker")
    arn = sm.create_model_package(
        ModelPackageGroupName=settings.model_package_group_name,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/k/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"source": "training"},
    )["ModelPackageArn"]
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    described = sm.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["CustomerMetadataProperties"] == {"source": "training"}, "kept on update"
    changes = [
        e
        for e in _events(cloud, "SageMaker Model Package State Change")
        if e["detail"]["ModelPackageArn"] == arn
    ]
    assert [e["detail"]["ModelApprovalStatus"] for e in changes] == [
        "PendingManualApproval",
        "Approved",
    ]


def test_internal_health_document(cloud) -> None:
    with urllib.request.urlopen(f"{cloud.endpoint}/_batchops/health", timeout=5) as response:
        assert json.load(response)["status"] == "ok"


def test_a_second_local_cloud_in_one_process_is_refused(cloud, tmp_path) -> None:
    """moto's backends are process-wide: a second cloud would serve the first one's accounts."""
    other = LocalCloud(state_dir=tmp_path, options={"persist": False})
    with pytest.raises(CloudError, match="already running in this process"):
        other.start()
    assert not other.folder_lock.holder(), "the refused cloud keeps no lock on its folder"


def test_a_busy_port_is_a_clear_error(cloud, tmp_path) -> None:
    """Another process (here: ``local up`` on the port this cloud holds) gets one line."""
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "batchops",
            "local",
            "up",
            "--port",
            str(cloud.port),
            "--state-dir",
            str(tmp_path / "other"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert answer.returncode != 0
    assert f"port {cloud.port} on 127.0.0.1 is in use" in answer.stderr
    assert "Traceback" not in answer.stderr


def test_staging_lists_only_the_shared_prefix_of_the_data_science_bucket(account) -> None:
    """Terraform's List statement holds on s3:prefix (the bootstrap now puts it): a list
    under bucket_prefix is allowed, one elsewhere refused, as S3 evaluates the condition."""
    ds = load_settings("data-science")
    s3 = account("staging").client("s3")
    listed = s3.list_objects_v2(Bucket=ds.bucket_name, Prefix=f"{ds.bucket_prefix}/training/m")
    assert listed["KeyCount"] == 0
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket=ds.bucket_name, Prefix="private/")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
