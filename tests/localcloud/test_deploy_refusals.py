"""Bad deploy input is refused with one line, and nothing of a deployment is recorded."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from batchops import deploy
from batchops.config import load_settings
from batchops.errors import ConfigError, GovernanceError, NotFoundError

STEPS = Path(__file__).resolve().parents[2] / "model-deploy" / "steps"


@pytest.fixture()
def environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "environments"
    folder.mkdir()
    monkeypatch.setenv(deploy.ENVIRONMENTS_DIR_ENV, str(folder))
    return folder


def _register(account, status: str) -> int:  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    arn = (
        account("data-science")
        .client("sagemaker")
        .create_model_package(
            ModelPackageGroupName=settings.model_package_group_name,
            ModelApprovalStatus=status,
            InferenceSpecification={
                "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/model.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
            CustomerMetadataProperties={"source": "training"},
        )["ModelPackageArn"]
    )
    return int(arn.rsplit("/", 1)[-1])


def _refused(cloud, environments: Path, ref: str, error: type, match: str) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings("staging")
    from batchops.aws import clients_for

    before = deploy.read_history(clients_for(settings, cloud.endpoint), settings)
    with pytest.raises(error, match=match) as caught:
        deploy.deploy("staging", ref, endpoint=cloud.endpoint, actor="test")
    assert "\n" not in str(caught.value)
    assert list(environments.iterdir()) == [], "no environment YAML is written"
    assert deploy.read_history(clients_for(settings, cloud.endpoint), settings) == before


def test_deploying_a_version_that_does_not_exist_records_nothing(
    cloud, account, environments
) -> None:  # type: ignore[no-untyped-def]
    _refused(cloud, environments, "9999", NotFoundError, "9999")


def test_deploying_an_arn_of_another_group_records_nothing(cloud, account, environments) -> None:  # type: ignore[no-untyped-def]
    foreign = "arn:aws:sagemaker:us-east-1:111111111111:model-package/other-group/1"
    _refused(cloud, environments, foreign, GovernanceError, "not a version of the model group")


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_deploying_a_version_that_is_not_approved_records_nothing(  # type: ignore[no-untyped-def]
    cloud, account, environments, status: str
) -> None:
    version = _register(account, status)
    _refused(cloud, environments, str(version), GovernanceError, "only approved versions")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("history: [unclosed\n", "not valid YAML"),
        ("history: 3\n", "expected a mapping with a 'history' list"),
        ("environment: production\nhistory: []\n", "'environment' is 'production', not 'staging'"),
    ],
)
def test_a_hand_broken_environment_file_stops_the_deploy_with_one_line(  # type: ignore[no-untyped-def]
    cloud, account, environments, text: str, match: str
) -> None:
    (environments / "staging.yaml").write_text(text)
    version = _register(account, "Approved")
    with pytest.raises(ConfigError, match=match) as caught:
        deploy.deploy("staging", str(version), endpoint=cloud.endpoint, actor="test")
    assert "\n" not in str(caught.value) and "staging.yaml" in str(caught.value)
    assert (environments / "staging.yaml").read_text() == text, "the file is left as it was"


@pytest.mark.parametrize(
    ("reader", "owner"), [("staging", "production"), ("production", "staging")]
)
def test_an_account_cannot_read_the_other_deploy_accounts_bucket(account, reader, owner) -> None:  # type: ignore[no-untyped-def]
    bucket = load_settings(owner).bucket_name
    account(owner).client("s3").put_object(Bucket=bucket, Key="isolation/probe.txt", Body=b"x")
    s3 = account(reader).client("s3")
    for call in (
        lambda: s3.get_object(Bucket=bucket, Key="isolation/probe.txt"),
        lambda: s3.list_objects_v2(Bucket=bucket),
        lambda: s3.put_object(Bucket=bucket, Key="isolation/intruder.txt", Body=b"x"),
    ):
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] == "AccessDenied"
