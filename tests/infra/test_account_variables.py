"""The account roots take the article's variables under the Python settings' names and values."""

from __future__ import annotations

import json
import re

import pytest

from batchops.config import ARTICLE_VARIABLES, ENVIRONMENTS, load_settings

ACCOUNTS = __import__("module_docs").ROOT / "accounts"
#: Terraform creates these and reports them as outputs; the settings hold the results.
TERRAFORM_OUTPUTS = {"role_arn", "kms_key"}
#: Runtime switches of the Python pipelines; no infrastructure depends on them.
PYTHON_ONLY = {
    "recreate_pipelines",
    "accuracy_mse_threshold",
    "upload_training_data",
    "upload_inference_data",
}


def _declared(kind: str, file: str) -> set[str]:
    text = (ACCOUNTS / "_shared" / file).read_text(encoding="utf-8")
    return set(re.findall(rf'^{kind} "([a-z_]+)"', text, re.M))


def test_every_article_variable_is_a_root_variable_an_output_or_python_only() -> None:
    variables, outputs = _declared("variable", "variables.tf"), _declared("output", "outputs.tf")
    missing = [
        name
        for name in ARTICLE_VARIABLES
        if name not in variables
        and not (name in TERRAFORM_OUTPUTS and name in outputs)
        and name not in PYTHON_ONLY
    ]
    assert missing == []


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_root_values_equal_the_environment_settings(env: str) -> None:
    settings = load_settings(env).model_dump(mode="json")
    tfvars = json.loads((ACCOUNTS / env / "terraform.tfvars.json").read_text(encoding="utf-8"))
    shared = set(tfvars) & set(settings)
    assert {"bucket_name", "email_recipient", "account_id", "custom_notification_config"} <= shared
    assert {k: tfvars[k] for k in shared} == {k: settings[k] for k in shared}
