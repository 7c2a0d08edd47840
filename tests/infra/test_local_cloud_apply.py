"""Each account root applies into its own account on the local cloud, and a re-plan right
after shows no changes; the plan JSON then passes our tag policy.

The local cloud runs as a subprocess (`batchops local up --no-bootstrap`): moto's state is per
process, and Terraform must find the accounts empty. Every resource of the root is applied;
moto gaps are repaired by the local cloud itself (model package group policy, the S3
EventBridge setting), not by `ignore_changes` in the modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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

pytestmark = [pytest.mark.terraform, pytest.mark.localcloud, pytest.mark.slow]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: Applied in this order into one local cloud, each root into its own account (data-science
#: first: the other two name its bus and registry).
ENV_ACCOUNTS = ("data-science", "staging", "production")
# What moto cannot serve, so the re-plan may show it as drift; covered by the module's
# mock tests (shared-modules/lambda-function/tests) and by checkov CKV_BATCHOPS_8 instead.
MOTO_GAPS: dict[tuple[str, str], str] = {
    # (Lambda's DeadLetterConfig was one: the local cloud keeps it since issue 19.)
}


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    reason = terraform_available()
    if reason:
        pytest.skip(f"local-cloud apply: {reason}")
    state = tmp_path_factory.mktemp("localcloud")
    command = [sys.executable, "-m", "batchops", "local", "up", "--no-bootstrap"]
    process = subprocess.Popen(
        [*command, "--state-dir", str(state)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("endpoint="), f"batchops local up printed {first!r}"
        yield first.removeprefix("endpoint=")
    finally:
        process.terminate()
        process.wait(timeout=30)


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


class Applied:
    """One root applied to the local cloud: what went wrong (if anything) and its records."""

    def __init__(self, account: str) -> None:
        self.account = account
        self.problem: str | None = None
        self.drift: list[str] = []
        self.plan: Path | None = None
        self.outputs: dict[str, object] = {}


def apply_root(account: str, endpoint: str, work: Path, extra: dict[str, str]) -> Applied:
    """init, apply, re-plan, show: the steps a CI apply job runs, into the account's role."""
    result = Applied(account)
    tfvars = json.loads((ROOT / "accounts" / account / "terraform.tfvars.json").read_text())
    text = override(endpoint, tfvars["account_id"], tfvars["access_role_name"])
    root = mirror_root(account, work, text)
    env = {**tf_env(work), **extra}
    for step in (("init", "-input=false"), ("apply", "-auto-approve", "-input=false")):
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
    return result


@pytest.fixture(scope="module")
def applied(endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Applied]:
    """data-science first (the others name its key, bus and registry), then staging and
    production at the same time, as their CI apply jobs would run."""
    from concurrent.futures import ThreadPoolExecutor

    first = apply_root("data-science", endpoint, tmp_path_factory.mktemp("data-science"), {})
    results = {"data-science": first}
    if first.problem:
        return results
    # what CI passes to the other roots from the data-science root's outputs
    extra = {"TF_VAR_registry_kms_key_arn": str(first.outputs["kms_key_arn"])}
    others = [a for a in ENV_ACCOUNTS if a != "data-science"]
    with ThreadPoolExecutor(max_workers=len(others)) as pool:
        futures = {
            a: pool.submit(apply_root, a, endpoint, tmp_path_factory.mktemp(a), extra)
            for a in others
        }
        results.update({a: f.result() for a, f in futures.items()})
    return results


@pytest.mark.parametrize("account", ENV_ACCOUNTS)
def test_each_account_root_applies_and_replans_clean(
    account: str, applied: dict[str, Applied]
) -> None:
    if account not in applied:
        pytest.fail("the data-science root did not apply, so this one was not tried")
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
