"""`batchops doctor` on the local cloud as `batchops local up` provisions it: every check
passes in every account (the bootstrap creates what accounts/bootstrap and the account roots
create, with Terraform's documents), each check fails with one line when its piece is
removed, and fails alone. The same checks on the Terraform-provisioned local cloud:
tests/infra/test_local_cloud_apply.py."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from batchops.aws import Clients, clients_for
from batchops.cli.main import main
from batchops.config import load_settings
from batchops.doctor import check_names, run_doctor

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
ACCOUNTS = REPO / "accounts"
ENVIRONMENTS = ("data-science", "staging", "production")


@dataclass(frozen=True)
class Cloud:
    endpoint: str
    #: each account's backend.hcl as the bootstrap wrote it (BATCHOPS_ACCOUNTS_DIR)
    accounts: Path


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """`batchops local up` in its own process: moto's backends are per process, so a local
    cloud started in this one would share state with the other suites' clouds."""
    state = tmp_path_factory.mktemp("doctor")
    process = subprocess.Popen(
        [sys.executable, "-m", "batchops", "local", "up", "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("endpoint="), f"batchops local up printed {first!r}"
        yield Cloud(first.removeprefix("endpoint="), state / "accounts")
    finally:
        process.terminate()
        process.wait(timeout=30)


def clients(cloud: Any, env: str) -> Clients:
    return clients_for(load_settings(env), cloud.endpoint)


def failing(cloud: Any, env: str) -> set[str]:
    results = run_doctor(load_settings(env), clients(cloud, env), cloud.accounts)
    assert [r.check for r in results] == check_names(env), "every check reports, in order"
    return {r.check for r in results if not r.ok}


def assert_fails_alone(cloud: Any, env: str, check: str, remove: Any) -> str:
    """Removing one piece adds exactly its check to the failures; returns that line."""
    before = failing(cloud, env)
    assert check not in before, f"{check} fails before its piece is removed"
    remove()
    results = run_doctor(load_settings(env), clients(cloud, env), cloud.accounts)
    after = {r.check for r in results if not r.ok}
    assert after - before == {check}, f"removing the piece of {check} failed {after - before}"
    line = next(r.line() for r in results if r.check == check)
    assert line.startswith(f"FAIL {check}: ") and "\n" not in line and "; " in line
    return line


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_check_passes_on_a_plain_local_up(cloud: Any, env: str) -> None:
    results = run_doctor(load_settings(env), clients(cloud, env), cloud.accounts)
    assert [r.line() for r in results if not r.ok] == []
    assert [r.check for r in results] == check_names(env)


def test_the_bootstrap_puts_terraforms_documents(cloud: Any) -> None:
    """What the bootstrap put equals terraform-policies.json, which the Terraform-provisioned
    cloud is compared with (tests/infra/test_local_cloud_apply.py): one source of truth."""
    from batchops.localcloud.bootstrap import terraform_policies

    captured = terraform_policies.capture(cloud.endpoint)
    committed = terraform_policies.load_snapshot()
    for env in ENVIRONMENTS:
        for part in sorted(set(committed[env]) | set(captured[env])):
            assert captured[env].get(part) == committed[env].get(part), (env, part)
    # the data bucket's five statements, the known drift (issue 15)
    ds_bucket = committed["data-science"]["buckets"][load_settings("data-science").bucket_name]
    assert len(ds_bucket["policy"]["Statement"]) == 3 + 2 * 2


def test_without_the_bootstraps_backend_hcl_only_the_state_bucket_fails(cloud: Any) -> None:
    """The committed backend.hcl waits for an administrator to write the key ARN in."""
    results = run_doctor(load_settings("staging"), clients(cloud, "staging"), ACCOUNTS)
    assert [r.check for r in results if not r.ok] == ["state-bucket"]
    assert "does not name the state key" in next(r.detail for r in results if not r.ok)


def test_doctor_only_reads(cloud: Any) -> None:
    calls: list[str] = []
    for env in ENVIRONMENTS:
        account = clients(cloud, env)
        account.session().events.register(
            "before-call.*.*", lambda model, **_: calls.append(model.name)
        )
        run_doctor(load_settings(env), account, cloud.accounts)
    writes = [c for c in calls if not c.startswith(("Get", "List", "Describe", "Head", "BatchGet"))]
    assert calls and writes == []


def test_cli_prints_one_line_per_check_and_exits_by_the_result(
    cloud: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BATCHOPS_ACCOUNTS_DIR", str(cloud.accounts))
    assert main(["doctor", "--env", "staging", "--endpoint", cloud.endpoint]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0].split()[-1] for line in lines[:-1]] == check_names("staging")
    assert lines[-1] == f"doctor staging (222222222222): {len(lines) - 1} ok, 0 FAIL"
    # --accounts-dir wins over the variable: the repository's backend.hcl has no key yet
    command = ["doctor", "--env", "staging", "--endpoint", cloud.endpoint, "--json"]
    assert main([*command, "--accounts-dir", str(ACCOUNTS)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["account_id"] == "222222222222"
    assert [c["check"] for c in report["checks"] if not c["ok"]] == ["state-bucket"]


# ----- identity ---------------------------------------------------------------------------
def test_identity_of_another_account_is_one_line_naming_the_expected_account(cloud: Any) -> None:
    results = run_doctor(load_settings("production"), clients(cloud, "staging"), cloud.accounts)
    assert [r.line() for r in results] == [
        "FAIL identity: the credentials are of account 222222222222 (arn:aws:sts::222222222222:"
        "assumed-role/batchops-deploy/batchops-staging), expected the production account "
        "333333333333; use credentials of that account; nothing else was checked"
    ]


def test_no_credentials_is_one_line_and_a_non_zero_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.setenv(name, str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert main(["doctor", "--env", "staging"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL identity: no AWS credentials found; sign in to the staging "
                             "account 222222222222")  # fmt: skip
    assert len(out) == 2 and out[1] == "doctor staging (222222222222): 0 ok, 1 FAIL"


# ----- one test per check: its piece removed, only it fails ----------------------------------
def test_bucket_fails_alone_without_its_tls_policy(cloud: Any) -> None:
    s3 = clients(cloud, "production").client("s3")
    bucket = load_settings("production").bucket_name
    line = assert_fails_alone(
        cloud, "production", "bucket", lambda: s3.delete_bucket_policy(Bucket=bucket)
    )
    assert "has no bucket policy" in line


def test_kms_key_fails_alone_without_rotation(cloud: Any) -> None:
    kms = clients(cloud, "staging").client("kms")
    key = kms.describe_key(KeyId=load_settings("staging").kms_key)["KeyMetadata"]["KeyId"]
    line = assert_fails_alone(
        cloud, "staging", "kms-key", lambda: kms.disable_key_rotation(KeyId=key)
    )
    assert "rotation off" in line


def test_registry_fails_alone_when_its_policy_stops_naming_the_workload_accounts(
    cloud: Any,
) -> None:
    settings = load_settings("data-science")
    sagemaker = clients(cloud, "data-science").client("sagemaker")
    closed = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "sagemaker:DescribeModelPackage", "Resource": "*",
    }]}  # fmt: skip

    def remove() -> None:
        sagemaker.put_model_package_group_policy(
            ModelPackageGroupName=settings.model_package_group_name,
            ResourcePolicy=json.dumps(closed),
        )

    line = assert_fails_alone(cloud, "data-science", "registry", remove)
    assert "account 222222222222" in line


def test_event_rules_fails_alone_when_a_rule_loses_its_target(cloud: Any) -> None:
    events = clients(cloud, "staging").client("events")
    rule = "batchops-inference-data-to-inference-pipeline"
    ids = [t["Id"] for t in events.list_targets_by_rule(Rule=rule)["Targets"]]
    line = assert_fails_alone(
        cloud, "staging", "event-rules", lambda: events.remove_targets(Rule=rule, Ids=ids)
    )
    assert f"{rule} has no target" in line


def test_bus_policy_fails_alone_without_the_forwarding_permission(cloud: Any) -> None:
    events = clients(cloud, "data-science").client("events")
    line = assert_fails_alone(
        cloud,
        "data-science",
        "bus-policy",
        lambda: events.remove_permission(StatementId="batchops-forward-333333333333"),
    )
    assert "production (333333333333)" in line


def test_functions_fails_alone_without_the_retrain_function(cloud: Any) -> None:
    lam = clients(cloud, "data-science").client("lambda")
    line = assert_fails_alone(
        cloud,
        "data-science",
        "functions",
        lambda: lam.delete_function(FunctionName="batchops-retrain-trigger"),
    )
    assert "batchops-retrain-trigger does not exist" in line


def test_trigger_secret_fails_alone_without_the_secret(cloud: Any) -> None:
    secrets = clients(cloud, "data-science").client("secretsmanager")
    name = load_settings("data-science").gitlab_trigger_secret_name
    line = assert_fails_alone(
        cloud,
        "data-science",
        "trigger-secret",
        lambda: secrets.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True),
    )
    assert f"secret {name} does not exist" in line


def test_oidc_provider_fails_alone_without_the_provider(cloud: Any) -> None:
    iam = clients(cloud, "staging").client("iam")
    arn = "arn:aws:iam::222222222222:oidc-provider/gitlab.example.com"
    assert [
        p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    ] == [arn]
    line = assert_fails_alone(
        cloud,
        "staging",
        "oidc-provider",
        lambda: iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn),
    )
    assert "no IAM OIDC provider for https://gitlab.example.com" in line


def test_deploy_role_fails_alone_when_production_trusts_any_job_on_main(cloud: Any) -> None:
    """The defect-10 trust (project and ref only): doctor must call it out."""
    iam = clients(cloud, "production").client("iam")
    role = load_settings("production").access_role_name
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    condition = trust["Statement"][0]["Condition"]
    condition["StringLike"] = {
        "gitlab.example.com:sub": "project_path:ml/batchops:ref_type:branch:ref:main*"
    }

    def remove() -> None:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(trust))

    line = assert_fails_alone(cloud, "production", "deploy-role", remove)
    assert "only the protected production environment may deploy" in line


def test_terraform_roles_fails_alone_without_the_apply_policy(cloud: Any) -> None:
    iam = clients(cloud, "data-science").client("iam")
    name = "batchops-terraform-apply"

    def remove() -> None:
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])

    line = assert_fails_alone(cloud, "data-science", "terraform-roles", remove)
    assert f"role {name} has no permissions policy" in line


def test_execution_role_fails_alone_without_its_policy(cloud: Any) -> None:
    iam = clients(cloud, "staging").client("iam")
    name = load_settings("staging").role_arn.rsplit("/", 1)[-1]

    def remove() -> None:
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])

    line = assert_fails_alone(cloud, "staging", "execution-role", remove)
    assert "every pipeline step would be denied" in line


def test_state_bucket_fails_alone_when_backend_hcl_names_another_key(cloud: Any) -> None:
    backend = cloud.accounts / "production" / "backend.hcl"
    other = (
        clients(cloud, "production")
        .client("kms")
        .describe_key(KeyId=load_settings("production").kms_key)["KeyMetadata"]["Arn"]
    )
    text = backend.read_text(encoding="utf-8")
    assert 'kms_key_id   = "arn:aws:kms:us-east-1:333333333333:key/' in text

    def remove() -> None:
        start = text.index('kms_key_id   = "') + len('kms_key_id   = "')
        backend.write_text(text[:start] + other + text[text.index('"', start) :], encoding="utf-8")

    line = assert_fails_alone(cloud, "production", "state-bucket", remove)
    assert f"names key {other}" in line


def test_kms_key_fails_alone_when_workload_accounts_cannot_decrypt_through_s3(
    cloud: Any,
) -> None:
    kms = clients(cloud, "data-science").client("kms")
    key = kms.describe_key(KeyId=load_settings("data-science").kms_key)["KeyMetadata"]["KeyId"]
    policy = json.loads(kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"])
    kept = [s for s in policy["Statement"] if s.get("Sid") != "CrossAccountDecryptThroughS3"]
    assert len(kept) == len(policy["Statement"]) - 1

    def remove() -> None:
        policy["Statement"] = kept
        kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))

    line = assert_fails_alone(cloud, "data-science", "kms-key", remove)
    assert "decrypt model artefacts through S3" in line


def _definition(image: str) -> str:
    return json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": [{
        "Name": "Transform", "Type": "Transform",
        "Arguments": {"ModelName": "m", "TransformResources": {"InstanceType": "ml.m5.large"}},
        "ImageUri": image,
    }]})  # fmt: skip


def test_pipelines_fails_alone_when_the_pipeline_runs_as_another_role(cloud: Any) -> None:
    settings = load_settings("staging")
    sagemaker = clients(cloud, "staging").client("sagemaker")

    def remove() -> None:
        sagemaker.create_pipeline(
            PipelineName=settings.pipeline_inf,
            RoleArn="arn:aws:iam::222222222222:role/someone-else",
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": []}),
        )

    line = assert_fails_alone(cloud, "staging", "pipelines", remove)
    assert "not the execution role" in line


def test_images_fails_alone_for_an_image_of_another_region(cloud: Any) -> None:
    settings = load_settings("production")
    sagemaker = clients(cloud, "production").client("sagemaker")
    image = "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"

    def remove() -> None:
        sagemaker.create_pipeline(
            PipelineName=settings.pipeline_inf,
            RoleArn=settings.role_arn,
            PipelineDefinition=_definition(image),
        )

    line = assert_fails_alone(cloud, "production", "images", remove)
    assert "is in eu-west-1, the account's region is us-east-1" in line


def test_doctor_tables_match_the_ci_files_and_the_local_bootstrap() -> None:
    """DEPLOY_JOBS/APPLY_JOBS are the CI jobs' token facts; RULES the deployed rules."""
    sys.path.insert(0, str(REPO / "tests" / "infra"))
    from ci_identity import token_jobs

    from batchops.doctor.automation import EXTRA_FUNCTIONS, RULES
    from batchops.doctor.identity import APPLY_JOBS, DEPLOY_JOBS
    from batchops.localcloud.bootstrap.events import FUNCTION_ENVIRONMENTS, RULE_ENVIRONMENTS

    jobs = [j for j in token_jobs() if j.job.ref == "main"]
    for env in ENVIRONMENTS:
        deploy = {j.job for j in jobs if j.account == env and j.role_name == "batchops-deploy"}
        assert deploy == set(DEPLOY_JOBS[env]), env
        apply = {
            j.job for j in jobs if j.account == env and j.role_name == "batchops-terraform-apply"
        }
        assert apply == {APPLY_JOBS[env]}, env
        assert set(RULES[env]) == {s for s, envs in RULE_ENVIRONMENTS.items() if env in envs}
        functions = {f for f, envs in FUNCTION_ENVIRONMENTS.items() if env in envs}
        assert {"batchops-notify", *EXTRA_FUNCTIONS[env]} == functions
