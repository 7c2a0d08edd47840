"""Settings: the article's variables table, layered defaults < YAML < environment."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from batchops.cli.main import main
from batchops.config import ARTICLE_VARIABLES, ENVIRONMENTS, load_settings
from batchops.errors import ConfigError


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_environment_file_resolves(environment: str) -> None:
    settings = load_settings(environment)
    assert settings.environment == environment
    assert settings.account_id in settings.role_arn
    assert settings.bucket_name.endswith(settings.account_id)


def test_accounts_are_distinct() -> None:
    ids = {load_settings(env).account_id for env in ENVIRONMENTS}
    assert len(ids) == 3


def test_article_table_has_twenty_variables_with_descriptions() -> None:
    from batchops.config import Settings

    assert len(ARTICLE_VARIABLES) == 20
    for name in ARTICLE_VARIABLES:
        assert Settings.model_fields[name].description, name


def test_environment_variable_overrides_yaml() -> None:
    settings = load_settings(
        "staging",
        environ={"BATCHOPS_ACCURACY_MSE_THRESHOLD": "4.5", "BATCHOPS_RECREATE_PIPELINES": "true"},
    )
    assert settings.accuracy_mse_threshold == 4.5
    assert settings.recreate_pipelines is True


def test_account_id_from_environment_stays_text() -> None:
    settings = load_settings("staging", environ={"BATCHOPS_ACCOUNT_ID": "012345678901"})
    assert settings.account_id == "012345678901"


def _write(tmp_path: Path, text: str, env: str = "staging") -> Path:
    base = (Path(__file__).parents[1] / "config" / f"{env}.yaml").read_text()
    (tmp_path / f"{env}.yaml").write_text(base + text)
    return tmp_path


def test_unknown_key_names_file_and_key_with_hint(tmp_path: Path) -> None:
    folder = _write(tmp_path, "bucket_nmae: x\n")
    with pytest.raises(ConfigError) as err:
        load_settings("staging", config_dir=folder)
    message = str(err.value)
    assert "staging.yaml" in message and "'bucket_nmae'" in message
    assert "did you mean 'bucket_name'" in message
    assert "\n" not in message


def test_wrong_type_names_file_and_key(tmp_path: Path) -> None:
    folder = _write(tmp_path, "accuracy_mse_threshold: lots\n")
    with pytest.raises(
        ConfigError, match=r"staging\.yaml: key 'accuracy_mse_threshold': expected a number"
    ):
        load_settings("staging", config_dir=folder)


def test_wrong_type_from_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="environment variable BATCHOPS_RECREATE_PIPELINES"):
        load_settings("staging", environ={"BATCHOPS_RECREATE_PIPELINES": "perhaps"})


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    (tmp_path / "staging.yaml").write_text("bucket_name: [unclosed\nuser_id: x\n")
    with pytest.raises(ConfigError, match=r"staging\.yaml:\d+:\d+: YAML syntax error"):
        load_settings("staging", config_dir=tmp_path)


def test_missing_environment_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="environment file not found"):
        load_settings("production", config_dir=tmp_path)


def test_unknown_environment() -> None:
    with pytest.raises(ConfigError, match="unknown environment 'prod'"):
        load_settings("prod")


def test_notification_config_rejects_unknown_status(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        "custom_notification_config:\n"
        "  - {step_name: RegisterModel, step_status: Done, step_custom_message: hi}\n",
    )
    with pytest.raises(ConfigError, match="unknown step status 'Done'"):
        load_settings("staging", config_dir=folder)


def test_invalid_account_id_and_kms_arn() -> None:
    with pytest.raises(ConfigError, match="12-digit account id"):
        load_settings("staging", environ={"BATCHOPS_ACCOUNT_ID": "12345"})
    with pytest.raises(ConfigError, match="KMS key or alias ARN"):
        load_settings("staging", environ={"BATCHOPS_KMS_KEY": "my-key"})


def test_config_show_json_lists_all_article_variables(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "show", "--env", "production", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data)[:20] == list(ARTICLE_VARIABLES)
    assert data["environment"] == "production"


def test_config_show_masks_the_gitlab_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHOPS_GITLAB_TOKEN", "glpat-supersecret")
    assert main(["config", "show", "--env", "staging", "--json"]) == 0
    out = capsys.readouterr().out
    assert "supersecret" not in out
    assert json.loads(out)["gitlab_token"] == "********"


def test_config_show_bad_file_is_one_line_and_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "colour: blue\n")
    monkeypatch.setenv("BATCHOPS_CONFIG_DIR", str(tmp_path))
    assert main(["config", "show", "--env", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown key 'colour'" in err


# ----- issue 19, defect 5: no setting switches a rule off, misspellings are errors ----------
@pytest.mark.parametrize("value", [".inf", "1e309", "NaN", "-inf", "0", "-3"])
def test_a_quality_threshold_that_switches_the_gate_off_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings("staging", environ={"BATCHOPS_ACCURACY_MSE_THRESHOLD": value})
    message = str(refused.value)
    assert message.startswith("environment variable BATCHOPS_ACCURACY_MSE_THRESHOLD:")
    assert "finite" in message or "greater than 0" in message
    assert "\n" not in message


def test_a_misspelt_batchops_variable_is_an_error_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"did you mean BATCHOPS_ACCURACY_MSE_THRESHOLD\?"):
        load_settings("staging", environ={"BATCHOPS_ACURACY_MSE_THRESHOLD": "3"})
    # tooling variables and unrelated names are not settings and not errors
    load_settings("staging", environ={"BATCHOPS_ENDPOINT": "http://x", "BATCHOPS_LOCAL_WARM": "0"})


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("BUCKET_NAME", "My_Bucket", "only lowercase letters"),
        ("BUCKET_NAME", "ab", "3 to 63"),
        ("BUCKET_NAME", "a..b", "two adjacent periods"),
        ("BUCKET_NAME", "192.168.1.1", "IP address"),
        ("BUCKET_NAME", "xn--bucket", "reserved"),
        ("BUCKET_NAME", "bucket-s3alias", "reserved"),
        ("BUCKET_NAME", "-bucket", "begin and end"),
        ("MODEL_PACKAGE_GROUP_NAME", "my_group", "SageMaker name"),
        ("PIPELINE_INF", "x" * 64, "SageMaker name"),
        ("NOTIFICATION_FUNCTION_NAME", "a b", "Lambda function name"),
        ("REGION", "useast1", "AWS region"),
        ("SUBNET_ID", "subnet-xyz", "subnet id"),
        ("SG_ID", "sg-1", "security group id"),
        ("GITLAB_URL", "gitlab.example.com", "http(s) URL"),
        ("ACCOUNT_ID", "1234", "12-digit"),
        ("ROLE_ARN", "arn:aws:iam::1:role/x", "IAM role ARN"),
    ],
)
def test_names_arns_and_ids_follow_aws_rules(key: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)) as refused:
        load_settings("staging", environ={f"BATCHOPS_{key}": value})
    assert f"BATCHOPS_{key}" in str(refused.value)
