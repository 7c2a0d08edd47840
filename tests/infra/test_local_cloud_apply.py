"""Each account's bootstrap, then each account root, applies into its own account on the
local cloud, and a re-plan right after shows no changes; the plan JSON then passes our
policies. The applied roles are then judged the way STS would judge CI's ID tokens.

The local cloud runs as a subprocess (`batchops local up --no-bootstrap`): moto's state is per
process, and Terraform must find the accounts empty. It checks permissions as IAM does
(`BATCHOPS_LOCAL_AUTHORIZATION=enforce`, as `make demo`): Terraform applies as each account's
administrator, the doctor runs with the admin profile, and the whole lifecycle runs on the
applied accounts with every CI job, Lambda and step acting as its Terraform-made role. Every
resource of the root is applied; moto gaps are repaired by the local cloud itself (model
package group policy, the S3 EventBridge setting), not by `ignore_changes` in the modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from localcloud_tf import (
    ROOT,
    mirror_root,
    override,
    provider_mirror,
    terraform,
    terraform_available,
    write_cli_config,
)
from tfharness import PLACEHOLDER_FUNCTIONS, write_placeholder_zip

# The module's applies happen in the first test's setup (three bootstraps and three roots,
# ~3-4 min on an idle 2-core machine, much more on a loaded one): a budget of its own.
pytestmark = [
    pytest.mark.terraform,
    pytest.mark.localcloud,
    pytest.mark.slow,
    pytest.mark.timeout(1800),
]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: Applied in this order into one local cloud, each root into its own account: the three
#: bootstraps first (the roots read the OIDC provider they create), then data-science (the
#: other two name its bus and registry), then staging and production.
ENV_ACCOUNTS = ("data-science", "staging", "production")
ROOTS = (*(f"bootstrap/{a}" for a in ENV_ACCOUNTS), *ENV_ACCOUNTS)
# What moto cannot serve, so the re-plan may show it as drift; covered by the module's
# mock tests (shared-modules/lambda-function/tests) and by checkov CKV_BATCHOPS_8 instead.
MOTO_GAPS: dict[tuple[str, str], str] = {
    # (Lambda's DeadLetterConfig was one: the local cloud keeps it since issue 19.)
}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`batchops local up --no-bootstrap --json`, checking permissions as IAM does
    (BATCHOPS_LOCAL_AUTHORIZATION=enforce, what `make demo` runs with): its first line names
    the endpoint and the GitLab stand-in's URL."""
    reason = terraform_available()
    if reason:
        pytest.skip(f"local-cloud apply: {reason}")
    state = tmp_path_factory.mktemp("localcloud")
    command = [sys.executable, "-m", "batchops", "local", "up", "--no-bootstrap", "--json"]
    # moto serves AWS managed policies (the plan role attaches ReadOnlyAccess) only when
    # asked to load them; AWS always has them.
    env = {
        **os.environ,
        "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        "BATCHOPS_LOCAL_AUTHORIZATION": "enforce",
    }
    process = subprocess.Popen(
        [*command, "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("{"), f"batchops local up --json printed {first!r}"
        yield json.loads(first)
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def endpoint(cloud: dict[str, Any]) -> str:
    return str(cloud["endpoint"])


def tf_env(work: Path) -> dict[str, str]:
    config = work / "terraformrc"
    write_cli_config(config, provider_mirror(), ROOT / ".infra-work" / "plugin-cache")
    functions = work / "dist" / "functions"
    for name in PLACEHOLDER_FUNCTIONS:  # every zip batchops.build makes
        write_placeholder_zip(functions / f"{name}.zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(
        TF_CLI_CONFIG_FILE=str(config),  # ours, even when the caller set one
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        TF_VAR_function_packages_dir=str(functions),
    )
    return env


@contextlib.contextmanager
def _one_init_at_a_time() -> Iterator[None]:
    """The chains run at once (threads here, and other pytest-xdist workers may run
    Terraform too) but share one plugin cache, and concurrent inits into it race ("failed
    to create directory ...: file exists"): an exclusive lock on a file beside the cache,
    taken through a new open file for each caller, serialises threads and processes."""
    lock = ROOT / ".infra-work" / "plugin-cache.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Applied:
    """One root applied to the local cloud: what went wrong (if anything) and its records."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.problem: str | None = None
        self.drift: list[str] = []
        self.plan: Path | None = None
        self.outputs: dict[str, object] = {}
        self.resource_types: list[str] = []


def _resource_types(module: dict[str, Any]) -> list[str]:
    found = [r["type"] for r in module.get("resources", []) if r.get("mode") == "managed"]
    for child in module.get("child_modules", []):
        found += _resource_types(child)
    return found


def apply_root(name: str, endpoint: str, work: Path, extra: dict[str, str]) -> Applied:
    """init, apply, re-plan, show: the steps a CI apply job runs, as the account's
    administrator (:func:`localcloud_tf.override` says why not as the apply role).

    ``name`` is an account root (``staging``) or an account's bootstrap (``bootstrap/staging``).
    """
    from batchops.localcloud.aws.iam.principals import ADMIN_ROLE

    root_dir, _, bootstrapped = name.partition("/")
    account = bootstrapped or root_dir
    result = Applied(name)
    tfvars = json.loads((ROOT / "accounts" / account / "terraform.tfvars.json").read_text())
    text = override(endpoint, tfvars["account_id"], ADMIN_ROLE)
    root = mirror_root(root_dir, work, text)
    env = {**tf_env(work), **extra}
    if bootstrapped:
        env.update(TF_VAR_environment=account, TF_VAR_sandbox="true")
    for step in (("init", "-input=false"), ("apply", "-auto-approve", "-input=false")):
        with _one_init_at_a_time() if step[0] == "init" else contextlib.nullcontext():
            code, out = terraform(root, env, *step)
        if code != 0:
            result.problem = f"terraform {step[0]} failed:\n{out[-6000:]}"
            return result
    code, out = terraform(root, env, "plan", "-out=replan.tfplan")
    if code != 0:
        result.problem = f"re-plan failed:\n{out[-6000:]}"
        return result
    code, plan_json = terraform(root, env, "show", "-json", "replan.tfplan")
    if code != 0:
        result.problem = plan_json
        return result
    result.drift = unexpected_drift(json.loads(plan_json))
    result.plan = work / "tfplan.json"
    result.plan.write_text(plan_json, encoding="utf-8")
    state = json.loads(terraform(root, env, "show", "-json")[1])
    if not state["values"]["root_module"].get("child_modules"):
        result.problem = "nothing was applied"
    result.outputs = {k: v["value"] for k, v in state["values"].get("outputs", {}).items()}
    result.resource_types = _resource_types(state["values"]["root_module"])
    return result


@pytest.fixture(scope="module")
def applied(
    cloud: dict[str, Any], endpoint: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Applied]:
    """Each account's bootstrap, then its root, as three chains at the same time: the
    data-science root after its bootstrap; staging and production after theirs and after
    the data-science root (they name its key, bus and registry), as CI would run them.

    The roots' approval Lambda calls GitLab's API at the stand-in (the root variable
    ``gitlab_api_url``; its OIDC issuer stays ``gitlab_url``, the GitLab it stands in for)."""
    from concurrent.futures import Future, ThreadPoolExecutor

    def work(name: str) -> Path:
        return tmp_path_factory.mktemp(name.replace("/", "-"))

    results: dict[str, Applied] = {}
    registry: Future[Applied | None] = Future()
    gitlab = {"TF_VAR_gitlab_api_url": str(cloud["gitlab_url"])}

    def chain(account: str) -> None:
        if account == "data-science":
            root = None
            try:
                booted = apply_root(
                    f"bootstrap/{account}", endpoint, work(f"bootstrap/{account}"), {}
                )
                results[f"bootstrap/{account}"] = booted
                if not booted.problem:
                    root = results[account] = apply_root(account, endpoint, work(account), gitlab)
            finally:  # never leave the other chains waiting
                registry.set_result(root)
            return
        booted = apply_root(f"bootstrap/{account}", endpoint, work(f"bootstrap/{account}"), {})
        results[f"bootstrap/{account}"] = booted
        first = registry.result()
        if booted.problem or first is None or first.problem:
            return
        # moto cannot describe a KMS key of another account (the lookup the roots do on AWS
        # by alias ARN): the local cloud passes the data-science key ARN instead.
        extra = {"TF_VAR_registry_kms_key_arn": str(first.outputs["kms_key_arn"]), **gitlab}
        results[account] = apply_root(account, endpoint, work(account), extra)

    with ThreadPoolExecutor(max_workers=len(ENV_ACCOUNTS)) as pool:
        for future in [pool.submit(chain, a) for a in ENV_ACCOUNTS]:
            future.result()
    return results


@pytest.mark.parametrize("account", ROOTS)
def test_each_account_root_applies_and_replans_clean(
    account: str, applied: dict[str, Applied]
) -> None:
    if account not in applied:
        pytest.fail("a root applied before this one failed, so this one was not tried")
    result = applied[account]
    assert result.problem is None, result.problem
    assert result.drift == [], f"re-plan after apply is not empty: {result.drift}"
    assert result.plan is not None
    assert_plan_passes_policies(result.plan)


def unexpected_drift(plan: dict[str, object]) -> list[str]:
    """Planned changes other than the listed moto gaps, as `address: attributes`."""
    found = []
    for change in plan.get("resource_changes", []):  # type: ignore[union-attr]
        body = change["change"]
        if body["actions"] == ["no-op"] or body["actions"] == ["read"]:
            continue
        before, after = body.get("before") or {}, body.get("after") or {}
        keys = set(before) | set(after) | set(body.get("after_unknown") or {})
        changed = sorted(k for k in keys if before.get(k) != after.get(k))
        if body["actions"] != ["update"] or any(
            (change["type"], k) not in MOTO_GAPS for k in changed
        ):
            found.append(f"{change['address']} {body['actions']}: {changed}")
    return found


def assert_plan_passes_policies(plan: Path) -> None:
    """Tags (merged by default_tags) and rendered IAM policies are judged on the plan JSON."""
    if not CHECKOV.exists():
        message = f"checkov not installed at {CHECKOV}: run `make checkov`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    command = [str(CHECKOV), "-f", str(plan), "--framework", "terraform_plan", "--quiet"]
    command += ["--skip-download", "--compact", "-o", "json", "-c", "CKV_BATCHOPS_*"]
    command += ["--external-checks-dir", str(ROOT / "policies" / "checks")]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    failed = [
        f"{r['check_id']} {r['resource']}"
        for r in report.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], "our policies fail on the applied plan:\n" + "\n".join(failed)
    assert report.get("summary", {}).get("passed", 0) > 0, "no policy judged the plan"


# ----- one source of truth: the local bootstrap puts the documents Terraform applied -------
def test_the_bootstrap_snapshot_holds_the_documents_terraform_applied(
    applied: dict[str, Applied], endpoint: str
) -> None:
    """The policies, trusts, OIDC providers and default keys the roots applied equal
    terraform-policies.json, which `batchops local up` puts (tests/test_doctor.py checks that
    side). UPDATE_TERRAFORM_POLICIES=1 rewrites the file from this cloud instead."""
    from batchops.localcloud.bootstrap import terraform_policies

    if any(r.problem for r in applied.values()) or len(applied) < len(ROOTS):
        pytest.fail("not every root applied; see test_each_account_root_applies_and_replans_clean")
    captured = terraform_policies.capture(endpoint)
    if os.environ.get("UPDATE_TERRAFORM_POLICIES") == "1":
        terraform_policies.write_snapshot(captured)
    committed = terraform_policies.load_snapshot()
    for env in ENV_ACCOUNTS:
        for part in sorted(set(committed[env]) | set(captured[env])):
            assert captured[env].get(part) == committed[env].get(part), (
                f"{env} {part}: Terraform applies other documents than the bootstrap's "
                "snapshot; rerun this test with UPDATE_TERRAFORM_POLICIES=1 and "
                "review the diff"
            )


def _account_clients(endpoint: str, account: str) -> Any:
    """IAM of ``account`` as its administrator (what the tests read and break is the
    administrator's to read and break, not the deploy role's)."""
    from batchops.config import load_settings
    from batchops.localcloud.credentials import admin_clients

    return admin_clients(load_settings(account), endpoint, "test-admin").client("iam")


def _provider(iam: Any) -> tuple[str, list[str]]:
    arns = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert len(arns) == 1, f"expected one GitLab OIDC provider, found {arns}"
    return arns[0], list(
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arns[0])["ClientIDList"]
    )


@pytest.fixture(scope="module")
def trust_policies(applied: dict[str, Applied], endpoint: str) -> dict[tuple[str, str], Any]:
    """(account, role name) -> (trust policy, provider ARN, provider client ids)."""
    if any(r.problem for r in applied.values()) or len(applied) < len(ROOTS):
        pytest.fail("not every root applied; see test_each_account_root_applies_and_replans_clean")
    found = {}
    for account in ENV_ACCOUNTS:
        iam = _account_clients(endpoint, account)
        provider, client_ids = _provider(iam)
        for role in iam.list_roles()["Roles"]:
            found[(account, role["RoleName"])] = (
                role["AssumeRolePolicyDocument"],
                provider,
                client_ids,
            )
    return found


def test_only_the_bootstrap_creates_the_gitlab_oidc_provider(applied: dict[str, Applied]) -> None:
    """Regression (issue 16, defect 7): every root created the provider; IAM allows one per
    URL per account (EntityAlreadyExists) and CI needs it before it can run any root."""
    for name, result in applied.items():
        count = result.resource_types.count("aws_iam_openid_connect_provider")
        assert count == (1 if name.startswith("bootstrap/") else 0), f"{name}: {count} providers"


def test_every_ci_job_can_assume_the_role_of_its_account(
    trust_policies: dict[tuple[str, str], Any],
) -> None:
    """Regression (issue 16, defect 1): CI asked for aud=$CI_SERVER_URL while the provider
    listed and the roles expected sts.amazonaws.com, so no job could assume any role."""
    from ci_identity import token_jobs

    from batchops.oidc_trust import trust_refusal

    jobs = token_jobs()
    assert len({(j.file, j.name) for j in jobs}) >= 10
    refused = []
    for job in jobs:
        policy, provider, client_ids = trust_policies[(job.account, job.role_name)]
        reason = trust_refusal(
            policy, job.claims(), provider_arn=provider, provider_client_ids=client_ids
        )
        if reason:
            refused.append(
                f"{job.file}:{job.name} ({job.job.ref}) -> {job.account}/{job.role_name}: {reason}"
            )
    assert refused == []


def test_production_roles_only_for_the_protected_production_environment(
    trust_policies: dict[tuple[str, str], Any],
) -> None:
    """Regression (issue 16, defect 10): any job on main could assume the production
    deploy role, bypassing the protected environment and its approval."""
    from ci_identity import FEATURE_BRANCH, token_jobs

    from batchops.config import load_settings
    from batchops.oidc_trust import CiJob, job_claims, trust_refusal

    production = load_settings("production")
    # each production role and the one protected environment (by tier) it trusts
    gated = {production.access_role_name: "production", "batchops-terraform-apply": "other"}
    for role, tier in gated.items():
        policy, provider, client_ids = trust_policies[("production", role)]

        def allowed(
            claims: dict[str, str],
            policy: Any = policy,
            provider: str = provider,
            client_ids: list[str] = client_ids,
        ) -> bool:
            refusal = trust_refusal(
                policy, claims, provider_arn=provider, provider_client_ids=client_ids
            )
            return refusal is None

        for job in token_jobs():
            gate_passed = job.job.environment_protected and job.job.deployment_tier == tier
            assert allowed(job.claims()) == (gate_passed and job.role_name == role), (
                job.name,
                role,
            )
        url, project = production.gitlab_url, production.gitlab_project
        for intruder in (
            CiJob(),  # any job on main without an environment
            CiJob(
                environment="production", environment_protected=False, deployment_tier="production"
            ),
            CiJob(environment="staging", deployment_tier="staging"),
            CiJob(environment="infrastructure/production", deployment_tier=tier),
            CiJob(
                ref=FEATURE_BRANCH,
                environment="production",
                environment_protected=True,
                deployment_tier="production",
            ),
        ):
            assert not allowed(job_claims(url, project, intruder)), (role, intruder)


def test_feature_branches_can_assume_only_the_read_only_plan_roles(
    trust_policies: dict[tuple[str, str], Any],
) -> None:
    from ci_identity import FEATURE_BRANCH

    from batchops.config import load_settings
    from batchops.oidc_trust import CiJob, job_claims, trust_refusal

    for (account, role), (policy, provider, client_ids) in trust_policies.items():
        settings = load_settings(account)
        claims = job_claims(settings.gitlab_url, settings.gitlab_project, CiJob(ref=FEATURE_BRANCH))
        allowed = (
            trust_refusal(policy, claims, provider_arn=provider, provider_client_ids=client_ids)
            is None
        )
        if "sts:AssumeRoleWithWebIdentity" in json.dumps(policy):
            assert allowed == (role == "batchops-terraform-plan"), (account, role)


# ----- batchops doctor on the Terraform-provisioned local cloud ------------------------------
#: what a maintainer puts into the two secrets Terraform creates empty (.gitlab/README.md);
#: the GitLab stand-in accepts the tokens the data-science secrets hold, as GitLab knows its own
GITLAB_TOKENS = {
    "gitlab_trigger_secret_name": "glptt-from-gitlab-configure",
    "gitlab_read_token_secret_name": "glpat-read-api-from-a-maintainer",
}


@pytest.fixture(scope="module")
def gitlab_tokens(applied: dict[str, Applied], endpoint: str) -> None:
    """The runbook's step after the data-science apply: the pipeline trigger token
    (`batchops gitlab configure` stores it) and the read-only API token (a maintainer's
    `aws secretsmanager put-secret-value`), put by the account's administrator."""
    from batchops.config import load_settings
    from batchops.localcloud.credentials import admin_clients

    if any(r.problem for r in applied.values()) or len(applied) < len(ROOTS):
        pytest.fail("not every root applied; see test_each_account_root_applies_and_replans_clean")
    settings = load_settings("data-science")
    secrets = admin_clients(settings, endpoint, "maintainer").client("secretsmanager")
    for setting, token in GITLAB_TOKENS.items():
        secrets.put_secret_value(SecretId=getattr(settings, setting), SecretString=token)


@pytest.fixture(scope="module")
def doctor_accounts(
    applied: dict[str, Applied], gitlab_tokens: None, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """What the runbook has an administrator do after the applies: commit each account's
    backend.hcl from its bootstrap output, and store the GitLab tokens (:func:`gitlab_tokens`)."""
    accounts = tmp_path_factory.mktemp("accounts")
    for env in ENVIRONMENTS_WITH_BACKENDS:
        (accounts / env).mkdir()
        text = str(applied[f"bootstrap/{env}"].outputs["account_backend_hcl"])
        (accounts / env / "backend.hcl").write_text(text, encoding="utf-8")
    return accounts


ENVIRONMENTS_WITH_BACKENDS = ENV_ACCOUNTS


def _doctor(endpoint: str, env: str, accounts: Path) -> list[Any]:
    """`batchops doctor --env ENV` with the account's admin profile, as the runbook runs it."""
    from batchops.config import load_settings
    from batchops.doctor import run_doctor
    from batchops.localcloud.credentials import admin_clients

    settings = load_settings(env)
    return run_doctor(settings, admin_clients(settings, endpoint, "doctor"), accounts)


@pytest.mark.parametrize("env", ENV_ACCOUNTS)
def test_doctor_passes_every_check_on_the_terraform_provisioned_cloud(
    env: str, endpoint: str, doctor_accounts: Path
) -> None:
    failed = [r.line() for r in _doctor(endpoint, env, doctor_accounts) if not r.ok]
    assert failed == []


def _fails_alone(
    endpoint: str, env: str, accounts: Path, check: str, remove: Any, restore: Any
) -> str:
    """The line of ``check`` once ``remove`` took its piece away (no other check fails
    because of it); ``restore`` puts the piece back and the check passes again, so the
    tests after this one (the lifecycle) find the accounts as Terraform applied them."""
    before = {r.check for r in _doctor(endpoint, env, accounts) if not r.ok}
    assert check not in before
    remove()
    try:
        results = _doctor(endpoint, env, accounts)
    finally:
        restore()
    after = {r.check for r in results if not r.ok}
    assert after - before == {check}, f"removing the piece of {check} failed {after - before}"
    again = {r.check for r in _doctor(endpoint, env, accounts) if not r.ok}
    assert check not in again, f"{check} still fails once its piece was put back"
    return next(r.line() for r in results if r.check == check)


def test_doctor_oidc_provider_fails_alone_without_the_provider(
    endpoint: str, doctor_accounts: Path
) -> None:
    iam = _account_clients(endpoint, "staging")
    provider, client_ids = _provider(iam)
    described = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider)

    def restore() -> None:
        iam.create_open_id_connect_provider(
            Url="https://" + provider.split(":oidc-provider/", 1)[1],
            ClientIDList=client_ids,
            ThumbprintList=described.get("ThumbprintList") or [],
            Tags=described.get("Tags") or [],
        )

    line = _fails_alone(
        endpoint,
        "staging",
        doctor_accounts,
        "oidc-provider",
        lambda: iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=provider),
        restore,
    )
    assert "no IAM OIDC provider for https://gitlab.example.com" in line


def test_doctor_deploy_role_fails_alone_when_production_trusts_any_job_on_main(
    endpoint: str, doctor_accounts: Path
) -> None:
    """Put back the old, defect-10 trust (main only): doctor must call it out."""
    iam = _account_clients(endpoint, "production")
    applied_trust = iam.get_role(RoleName="batchops-deploy")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(json.dumps(applied_trust))
    trust["Statement"][0]["Condition"]["StringLike"]["gitlab.example.com:sub"] = [
        "project_path:ml/batchops:ref_type:branch:ref:main",
        "project_path:ml/batchops:ref_type:branch:ref:main:*",
    ]

    def put(document: Any) -> None:
        iam.update_assume_role_policy(
            RoleName="batchops-deploy", PolicyDocument=json.dumps(document)
        )

    line = _fails_alone(
        endpoint,
        "production",
        doctor_accounts,
        "deploy-role",
        lambda: put(trust),
        lambda: put(applied_trust),
    )
    assert "accepts a job on main (no environment)" in line


def _role_policies(iam: Any, role: str) -> dict[str, Any]:
    return {
        name: iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
    }


def _without_policies(iam: Any, role: str) -> tuple[Any, Any]:
    """(remove, restore) of every inline policy of ``role``."""
    documents = _role_policies(iam, role)
    assert documents, f"{role} has no inline policy to remove"

    def remove() -> None:
        for name in documents:
            iam.delete_role_policy(RoleName=role, PolicyName=name)

    def restore() -> None:
        for name, document in documents.items():
            iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))

    return remove, restore


def test_doctor_terraform_roles_fails_alone_without_the_apply_policy(
    endpoint: str, doctor_accounts: Path
) -> None:
    iam = _account_clients(endpoint, "data-science")
    name = "batchops-terraform-apply"
    assert len(iam.list_role_policies(RoleName=name)["PolicyNames"]) == 1
    remove, restore = _without_policies(iam, name)
    line = _fails_alone(
        endpoint, "data-science", doctor_accounts, "terraform-roles", remove, restore
    )
    assert f"role {name} has no permissions policy" in line


def test_doctor_execution_role_fails_alone_without_its_policy(
    endpoint: str, doctor_accounts: Path
) -> None:
    iam = _account_clients(endpoint, "staging")
    remove, restore = _without_policies(iam, "batchops-staging-sagemaker-execution")
    line = _fails_alone(endpoint, "staging", doctor_accounts, "execution-role", remove, restore)
    assert "has no permissions policy" in line


def test_doctor_state_bucket_fails_alone_when_backend_hcl_names_another_key(
    endpoint: str, doctor_accounts: Path
) -> None:
    backend = doctor_accounts / "production" / "backend.hcl"
    original = backend.read_text(encoding="utf-8")

    def remove() -> None:
        backend.write_text(
            original.replace(
                original.split('kms_key_id   = "', 1)[1].split('"', 1)[0],
                "REPLACE-with-the-bootstrap-output-state_kms_key_arn",
            ),
            encoding="utf-8",
        )

    line = _fails_alone(
        endpoint,
        "production",
        doctor_accounts,
        "state-bucket",
        remove,
        lambda: backend.write_text(original, encoding="utf-8"),
    )
    assert "does not name the state key" in line


# ----- the whole lifecycle on the Terraform-provisioned cloud --------------------------------
def _refused(call: Any) -> str:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


# After the doctor tests (they need accounts without pipelines, and put back what they
# remove), before the training upload (the lifecycle starts from an empty registry).
def test_the_whole_lifecycle_runs_on_the_terraform_provisioned_cloud(
    applied: dict[str, Applied],
    endpoint: str,
    gitlab_tokens: None,
    tmp_path: Path,
    lifecycle_story: Any,
) -> None:
    """Issue 15: the demo's whole story on the cloud the three bootstraps and roots built,
    with permissions checked as IAM does: train -> v1 registered -> approved -> staging
    deploy through the GitLab trigger -> clean staging batch -> production -> drifted
    production batch (DQ violations) -> model-quality failure -> HPO retraining -> v2 ->
    governance (review refused without a reference, production refused before a staging run)
    -> v2 in production, rollback and forward.

    From Terraform (applied above, no Python bootstrap): every account's keys, data bucket
    (policy, EventBridge notifications), roles and their policies (deploy, SageMaker
    execution, each function's, the events-target role), GitLab OIDC provider, topic,
    idempotency table; in data-science the model registry with its cross-account policy and
    the two GitLab secrets; the Lambda functions with Terraform's environment (the approval
    Lambda calls the GitLab API at the root variable ``gitlab_api_url``), the event rules,
    targets, input transformers, dead-letter queues and the registry bus policy.
    As on a real account after the applies: a maintainer puts the GitLab tokens into the
    secrets (:func:`gitlab_tokens`); CI's deploy role upserts the model-build pipelines (the
    demo does what the model-build job does); the inference pipelines are upserted by the
    deploy jobs that the approval trigger starts. A person (the account's administrator)
    uploads data, approves versions and deploys to production.
    From the local cloud: the AWS APIs with IAM authorization, the SageMaker executor, the
    event router (Lambda targets run their handlers in-process), and the GitLab stand-in (the
    trigger and read API, the jobs of .gitlab/ci/model-deploy.yml, their signed ID tokens).
    """
    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.demo import run_demo

    if any(r.problem for r in applied.values()) or len(applied) < len(ROOTS):
        pytest.fail("not every root applied; see test_each_account_root_applies_and_replans_clean")
    # permissions are checked: a deploy role may not create roles, nor read the GitLab
    # tokens (the administrator put them, gitlab_tokens)
    staging = clients_for(load_settings("staging"), endpoint).client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    create = partial(
        staging.create_role,
        RoleName="batchops-intruder",
        AssumeRolePolicyDocument=json.dumps(trust),
    )
    assert _refused(create) == "AccessDenied"
    secret = load_settings("data-science").gitlab_trigger_secret_name
    ds_deploy = clients_for(load_settings("data-science"), endpoint).client("secretsmanager")
    assert _refused(lambda: ds_deploy.get_secret_value(SecretId=secret)) == (
        "AccessDeniedException"
    )
    said: list[str] = []
    summary = run_demo(endpoint, None, tmp_path / "demo", said.append)
    told = "\n".join(said)

    records = json.loads((tmp_path / "demo/records.json").read_text())
    lifecycle_story(summary, records, told)
    # each approval started one deploy pipeline through Terraform's approval Lambda
    hpo = next(v["version"] for v in summary["model_versions"] if v["source"] == "hpo")
    staging_deploys = [d["version"] for d in summary["deployments"] if d["env"] == "staging"]
    assert staging_deploys[:2] == [1, hpo], staging_deploys


# Last in the file: it registers another model version (the lifecycle above starts from an
# empty registry). Like the lifecycle it comes after the doctor tests: the doctor's `images`
# check of a deployed pipeline needs AWS's SageMaker image registries, which the local cloud
# does not serve (noted on issue 15); the doctor tests run on the applied roots alone.
def test_a_training_upload_trains_on_exactly_that_file(
    applied: dict[str, Applied], endpoint: str, tmp_path: Path
) -> None:
    """Issue 16 defect 9 on the Terraform-provisioned cloud: Terraform's rule, target and
    pipeline-trigger function (not the bootstrap's) start one training run whose
    InputBucket/InputKey are the uploaded object, and the run trains on it and succeeds.
    A second upload in the same prefix starts its own run on its own file."""
    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.data.generate import generate
    from batchops.data.schema import Layout
    from batchops.data.upload import upload_files
    from batchops.localcloud.credentials import admin_clients
    from batchops.pipelines import deploy as pipelines
    from batchops.pipelines.build import build
    from batchops.pipelines.project import project

    if any(r.problem for r in applied.values()) or len(applied) < len(ROOTS):
        pytest.fail("not every root applied; see test_each_account_root_applies_and_replans_clean")
    settings = load_settings("data-science")
    proj = project("model-build")
    # CI's deploy role upserts the pipeline; a person (the administrator) uploads and watches
    pipelines.upsert(
        clients_for(settings, endpoint), settings, build(proj, proj.spec("training"), settings)
    )
    clients = admin_clients(settings, endpoint, "data-scientist")
    sagemaker = clients.client("sagemaker")

    def executions() -> set[str]:
        listed = sagemaker.list_pipeline_executions(PipelineName=settings.pipeline_train)
        return {e["PipelineExecutionArn"] for e in listed["PipelineExecutionSummaries"]}

    files = generate(tmp_path / "data", rows=400, seed=3, layouts=(Layout.TRAINING,)).files
    before = executions()
    (uploaded,) = upload_files(settings, clients, {Layout.TRAINING: files[Layout.TRAINING]})
    deadline = time.monotonic() + 60
    while not (new := executions() - before):
        assert time.monotonic() < deadline, "the upload started no training run within 60 s"
        time.sleep(0.3)
    time.sleep(2)  # a second run (a duplicate delivery) would have started by now
    new = executions() - before
    assert len(new) == 1, f"one upload started {len(new)} runs"
    arn = new.pop()
    parameters = {
        p["Name"]: p["Value"]
        for p in sagemaker.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn)[
            "PipelineParameters"
        ]
    }
    bucket, key = uploaded.uri.removeprefix("s3://").split("/", 1)
    assert (parameters.get("InputBucket"), parameters.get("InputKey")) == (bucket, key)
    described = pipelines.wait(clients, arn, timeout_s=900, max_delay_s=0.5)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=arn)[
        "PipelineExecutionSteps"
    ]
    read = [
        i.get("S3Input", {}).get("S3Uri")
        for s in steps
        if "ProcessingJob" in s.get("Metadata", {})
        for i in sagemaker.describe_processing_job(
            ProcessingJobName=s["Metadata"]["ProcessingJob"]["Arn"].rsplit("/", 1)[-1]
        )["ProcessingInputs"]
    ]
    assert uploaded.uri in read, "no processing step of the run read the uploaded file"


# ----- CI identity: who can assume what, judged on the applied roles ------------------------
