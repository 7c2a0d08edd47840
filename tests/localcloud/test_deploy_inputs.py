"""What a (triggered) deploy job is given is checked before anything changes (issue 16,
defect 11): unexpected trigger variables (names logged, never values), and a
MODEL_PACKAGE_ARN that is malformed, of another account or group, or not Approved in the
central registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batchops import deploy
from batchops.aws import clients_for
from batchops.cli.main import main
from batchops.config import load_settings
from batchops.errors import ConfigError, GovernanceError, NotFoundError

SECRET_VALUE = "attacker-controlled-value-7c1f"


@pytest.fixture()
def environments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "environments"
    folder.mkdir()
    monkeypatch.setenv(deploy.ENVIRONMENTS_DIR_ENV, str(folder))
    return folder


def _register(account, status: str) -> str:  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    return str(
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


def _trigger_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variables: dict) -> None:
    """What GitLab gives a pipeline started by a trigger token (TRIGGER_PAYLOAD file)."""
    payload = tmp_path / "TRIGGER_PAYLOAD"
    payload.write_text(json.dumps({"ref": "main", "id": "42", "variables": variables}))
    monkeypatch.setenv("TRIGGER_PAYLOAD", str(payload))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def _refused(cloud, environments: Path, ref: str, error: type, match: str) -> str:  # type: ignore[no-untyped-def]
    settings = load_settings("staging")
    clients = clients_for(settings, cloud.endpoint)
    before = deploy.read_history(clients, settings)
    with pytest.raises(error, match=match) as caught:
        deploy.deploy("staging", ref, endpoint=cloud.endpoint, actor="test")
    assert "\n" not in str(caught.value)
    assert list(environments.iterdir()) == [], "no environment YAML is written"
    assert deploy.read_history(clients, settings) == before, "no deployment is recorded"
    return str(caught.value)


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone",
        "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone",
        "arn:aws:sagemaker:us-east-1:11111111111:model-package/batchops-abalone/1",
        "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/1; rm -rf /",
        "arn",
    ],
)
def test_a_malformed_model_package_arn_is_refused(cloud, account, environments, arn: str) -> None:  # type: ignore[no-untyped-def]
    _refused(cloud, environments, arn, ConfigError, "is not a model package version ARN")


def test_a_version_of_another_account_is_refused(cloud, account, environments) -> None:  # type: ignore[no-untyped-def]
    foreign = "arn:aws:sagemaker:us-east-1:999999999999:model-package/batchops-abalone/1"
    message = _refused(cloud, environments, foreign, GovernanceError, "not in the central registry")
    assert "999999999999" in message and "111111111111" in message


def test_a_version_of_another_group_is_refused(cloud, account, environments) -> None:  # type: ignore[no-untyped-def]
    other = "arn:aws:sagemaker:us-east-1:111111111111:model-package/other-group/1"
    _refused(cloud, environments, other, GovernanceError, "not a version of the model group")


@pytest.mark.parametrize("status", ["PendingManualApproval", "Rejected"])
def test_an_arn_that_is_not_approved_in_the_registry_is_refused(  # type: ignore[no-untyped-def]
    cloud, account, environments, status: str
) -> None:
    arn = _register(account, status)
    _refused(cloud, environments, arn, GovernanceError, f"is {status} in the central registry")


def test_an_arn_the_registry_does_not_hold_is_refused(cloud, account, environments) -> None:  # type: ignore[no-untyped-def]
    missing = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/9999"
    _refused(cloud, environments, missing, NotFoundError, "not in the central registry")


def test_unexpected_trigger_variables_are_refused_by_name_never_by_value(  # type: ignore[no-untyped-def]
    cloud, account, environments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _register(account, "Approved")
    _trigger_payload(
        tmp_path,
        monkeypatch,
        {"MODEL_PACKAGE_ARN": arn, "PYTHONPATH": SECRET_VALUE, "PIP_INDEX_URL": SECRET_VALUE},
    )
    message = _refused(
        cloud, environments, arn, ConfigError, "does not accept: PIP_INDEX_URL, PYTHONPATH"
    )
    assert SECRET_VALUE not in message


def test_trigger_variables_that_disagree_with_the_arn_are_refused(  # type: ignore[no-untyped-def]
    cloud, account, environments, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    arn = _register(account, "Approved")
    _trigger_payload(
        tmp_path,
        monkeypatch,
        {"MODEL_PACKAGE_ARN": arn, "MODEL_PACKAGE_VERSION": "1", "MODEL_PACKAGE_GROUP_NAME": "x"},
    )
    _refused(cloud, environments, arn, GovernanceError, "trigger variables disagree")


def test_the_cli_prints_one_error_line_and_exits_non_zero(  # type: ignore[no-untyped-def]
    cloud, account, environments, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "arn:aws:sagemaker:us-east-1:111111111111:model-package/other-group/1"
    code = main(
        ["deploy", "--env", "staging", "--model-package-arn", other, "--endpoint", cloud.endpoint]
    )
    assert code == GovernanceError.exit_code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: MODEL_PACKAGE_ARN is not a version")
