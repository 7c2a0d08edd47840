"""``batchops gitlab configure`` against a fake GitLab server and a moto server.

The fake (``fake_gitlab``) starts from a new project as GitLab creates it (``main``
protected for maintainers, default approval settings); the trigger token goes to
Secrets Manager in the data-science account of the moto server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci_repo import REPO
from fake_gitlab import FakeGitLab, FakeGitLabState

from batchops.aws import clients_for
from batchops.cli.main import main
from batchops.codeowners import parse
from batchops.config import load_settings
from batchops.gitlab_settings import current_shape, desired_settings, plan_changes

pytestmark = pytest.mark.slow

TOKEN = "glpat-test-token-0123456789"
GROUPS = {
    "batchops/data-science": 101,
    "batchops/ml-engineering": 102,
    "batchops/platform": 103,
    "batchops/security": 104,
    "batchops/release-managers": 105,
}
CODEOWNERS = REPO / "CODEOWNERS"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """A moto server of its own, in another process: an in-process one would share moto's
    backends with every local cloud an earlier test started in this process (a trigger
    token already stored there changes what the dry run would do)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto server did not start on port {port}") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def gitlab_server() -> Iterator[FakeGitLab]:
    server = FakeGitLab(FakeGitLabState(token=TOKEN, groups=dict(GROUPS)))
    try:
        yield server
    finally:
        server.stop()


def configure(
    server_url: str, endpoint: str, *extra: str, monkeypatch: pytest.MonkeyPatch
) -> list[str]:
    monkeypatch.setenv("BATCHOPS_GITLAB_TOKEN", TOKEN)
    argv = ["gitlab", "configure", "--project", "ml/batchops", "--url", server_url]
    return [*argv, "--endpoint", endpoint, "--codeowners", str(CODEOWNERS), *extra]


def stored_secret(endpoint: str) -> str | None:
    client = clients_for(load_settings("data-science"), endpoint).client("secretsmanager")
    try:
        return client.get_secret_value(SecretId="batchops/gitlab-trigger-token")["SecretString"]
    except client.exceptions.ResourceNotFoundException:
        return None


def test_dry_run_prints_the_intended_settings_and_changes_nothing(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, "--dry-run", monkeypatch=monkeypatch)
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "would make 11 change(s)" in out
    assert (
        "~ protected branch main: allow_force_push=false, code_owner_approval_required=false, "
        "merge=[40], push=[40] -> allow_force_push=false, code_owner_approval_required=true, "
        "merge=[40], push=[0]"
    ) in out
    assert (
        "+ protected environment production: approvers=[batchops/release-managers x1], "
        "deployers=[batchops/release-managers]"
    ) in out
    assert (
        "+ protected environment infrastructure/production: approvers=[batchops/release-managers"
        " x1], deployers=[batchops/platform]"
    ) in out
    for group in GROUPS:
        assert f"+ project member group {group}: access=developers" in out
    assert (
        "~ merge request approvals settings: disable_overriding_approvers_per_merge_request="
        "false, merge_requests_author_approval=true, merge_requests_disable_committers_approval"
        "=false -> disable_overriding_approvers_per_merge_request=true, "
        "merge_requests_author_approval=false, merge_requests_disable_committers_approval=true"
    ) in out
    assert (
        "~ project CI/CD settings: ci_id_token_sub_claim_components=[project_path, "
        "ref_type, ref], ci_pipeline_variables_minimum_override_role=developer, "
        "restrict_user_defined_variables=false -> ci_id_token_sub_claim_components="
        "[project_path, ref_type, ref, environment_protected, deployment_tier], "
        "ci_pipeline_variables_minimum_override_role=maintainer, "
        "restrict_user_defined_variables=true"
    ) in out
    assert "+ pipeline trigger 'batchops approval Lambda" in out
    assert out.rstrip().endswith("dry run: nothing was changed")
    assert gitlab_server.state.writes == []
    assert stored_secret(moto_endpoint) is None


def test_real_run_applies_everything_and_a_second_run_changes_nothing(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    assert main(argv) == 0
    first = capsys.readouterr().out
    assert "applied 11 change(s)" in first
    state = gitlab_server.state
    main_branch = state.branches["main"]
    assert [lvl["access_level"] for lvl in main_branch["push_access_levels"]] == [0]
    assert [lvl["access_level"] for lvl in main_branch["merge_access_levels"]] == [40]
    assert main_branch["code_owner_approval_required"] is True
    assert state.shares == dict.fromkeys(GROUPS.values(), 30)
    production = state.environments["production"]
    assert [r["group_id"] for r in production["approval_rules"]] == [105]
    assert [d["group_id"] for d in production["deploy_access_levels"]] == [105]
    assert state.approvals["merge_requests_author_approval"] is False
    # Regression (issue 16, defects 10 and 11): the ID token's sub now carries the
    # environment's protection and tier (what the production trust policy requires), and
    # only maintainers (the trigger token's owner) may set pipeline variables.
    assert state.ci_settings == {
        "ci_id_token_sub_claim_components": [
            "project_path", "ref_type", "ref", "environment_protected", "deployment_tier",
        ],
        "restrict_user_defined_variables": True,
        "ci_pipeline_variables_minimum_override_role": "maintainer",
    }  # fmt: skip
    token = state.triggers[0]["token"]
    assert stored_secret(moto_endpoint) == token
    assert token not in first, "the trigger token must never be printed"

    writes = len(state.writes)
    assert main(argv) == 0
    second = capsys.readouterr().out
    assert "up to date, nothing to change" in second
    assert len(state.writes) == writes, state.writes[writes:]


def test_drifted_environment_and_secret_are_put_back(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    assert main(argv) == 0
    state = gitlab_server.state
    state.environments["production"]["deploy_access_levels"].append(
        {"id": 1, "access_level": 30, "group_id": 102}
    )
    client = clients_for(load_settings("data-science"), moto_endpoint).client("secretsmanager")
    client.put_secret_value(SecretId="batchops/gitlab-trigger-token", SecretString="stale")
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "making 2 change(s)" in out
    assert "~ secret batchops/gitlab-trigger-token: value=another token" in out
    assert "stale" not in out
    deployers = state.environments["production"]["deploy_access_levels"]
    assert [d["group_id"] for d in deployers] == [105]
    assert stored_secret(moto_endpoint) == state.triggers[0]["token"]


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_bad_token_is_one_clear_line(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    monkeypatch.setenv("BATCHOPS_GITLAB_TOKEN", "glpat-wrong")
    assert main(argv) == 4
    assert _one_error_line(capsys) == (
        f"error: GitLab at {gitlab_server.url} rejected the token in BATCHOPS_GITLAB_TOKEN "
        "(401): use an access token with the api scope that has not expired\n"
    )
    assert gitlab_server.state.writes == []


def test_unreachable_gitlab_is_one_clear_line(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    assert main(configure(url, moto_endpoint, monkeypatch=monkeypatch)) == 4
    assert _one_error_line(capsys).startswith(f"error: GitLab not reachable at {url}: ")


def test_missing_token_and_missing_group_are_clear(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    monkeypatch.delenv("BATCHOPS_GITLAB_TOKEN")
    assert main(argv) == 2
    assert "error: no GitLab token: set BATCHOPS_GITLAB_TOKEN" in _one_error_line(capsys)

    monkeypatch.setenv("BATCHOPS_GITLAB_TOKEN", TOKEN)
    del gitlab_server.state.groups["batchops/security"]
    assert main(argv) == 4
    assert _one_error_line(capsys) == (
        f"error: GitLab group 'batchops/security' (named in CODEOWNERS) does not exist at "
        f"{gitlab_server.url}: create it or replace the placeholder groups\n"
    )


def test_desired_settings_come_from_codeowners(tmp_path: Path) -> None:
    desired = desired_settings(parse(CODEOWNERS.read_text(encoding="utf-8")))
    assert set(desired.groups) == set(GROUPS)
    assert desired.environments["production"].approvers == (("batchops/release-managers", 1),)
    assert desired.branch["code_owner_approval_required"] is True
    kinds = [change.kind for change in plan_changes(desired, current_shape())]
    assert kinds.count("project member group") == len(GROUPS)
    assert kinds.count("protected environment") == 2


def test_reset_sub_claim_and_variable_settings_are_put_back(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    assert main(argv) == 0
    state = gitlab_server.state
    state.ci_settings["ci_id_token_sub_claim_components"] = ["project_path", "ref_type", "ref"]
    state.ci_settings["ci_pipeline_variables_minimum_override_role"] = "developer"
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "making 1 change(s)" in out
    assert "~ project CI/CD settings:" in out
    assert state.ci_settings["ci_pipeline_variables_minimum_override_role"] == "maintainer"
    assert state.ci_settings["ci_id_token_sub_claim_components"][-2:] == [
        "environment_protected",
        "deployment_tier",
    ]


def test_a_gitlab_that_refuses_the_sub_components_is_one_clear_line(
    gitlab_server: FakeGitLab,
    moto_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gitlab_server.state.allowed_sub_claim_components = ("project_path", "ref_type", "ref")
    argv = configure(gitlab_server.url, moto_endpoint, monkeypatch=monkeypatch)
    assert main(argv) == 4
    line = _one_error_line(capsys)
    assert line.startswith("error: GitLab refused to update project CI/CD settings: 400")
    assert "environment_protected is not an allowed sub claim component" in line
    assert "older GitLab versions refuse" in line
