"""The CI configuration as gitlab-ci-local 4.73.0 evaluates it, in throwaway clones.

gitlab-ci-local evaluates ``rules:changes`` as ``git diff origin/main`` of the work tree
(``compare_to`` itself is ignored), so each routing test commits a change on a branch of a
clone whose ``origin/main`` is the repository as it is now. Merge-request pipelines are
simulated with ``CI_PIPELINE_SOURCE=merge_request_event``. Jobs run with the shell
executor; ``MAKEFLAGS=n`` turns every ``make`` into a dry run and a recording ``batchops``
stand-in on PATH captures what a deploy job would run and with which AWS identity.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from ci_repo import CI_FILES, REPO, ScratchRepo, load

MR = ("--variable", "CI_PIPELINE_SOURCE=merge_request_event")
ROUTES = ("model-build", "model-deploy", "infrastructure")
STAGING_ROLE = "arn:aws:iam::222222222222:role/batchops-deploy"
PRODUCTION_ROLE = "arn:aws:iam::333333333333:role/batchops-deploy"
ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/3"

pytestmark = pytest.mark.slow


def routed(repo: ScratchRepo, *variables: str) -> set[str]:
    result = repo.gcl("--list-json", *variables)
    assert result.returncode == 0, result.stderr
    jobs = result.jobs()
    assert jobs["repo-checks"]["when"] in ("on_success", "never")
    return {name for name in ROUTES if jobs[name]["when"] != "never"}


@pytest.mark.parametrize("path", CI_FILES, ids=lambda p: p.name)
def test_every_ci_file_loads_in_gitlab_ci_local(
    scratch_repo: Callable[[], ScratchRepo], path: Path
) -> None:
    repo = scratch_repo()
    result = repo.gcl("--file", str(path.relative_to(REPO)), "--list-all")
    assert result.returncode == 0, result.stderr
    for name in load(path).jobs:
        assert name in result.stdout, f"{path.name}: {name} not listed"


def test_change_only_under_model_build_runs_only_the_model_build_child(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/model-build", {"model-build/pipelines/training_params.py": "X = 1\n"})
    assert routed(repo, *MR) == {"model-build"}


def test_change_under_shared_modules_runs_the_infrastructure_child(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/kms", {"shared-modules/kms/main.tf": "# kms key\n"})
    assert routed(repo, *MR) == {"infrastructure"}


def test_change_to_the_shared_package_runs_both_python_children(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/cli", {"src/batchops/cli/extra.py": "X = 1\n"})
    assert routed(repo, *MR) == {"model-build", "model-deploy"}


def test_change_to_event_patterns_also_runs_infrastructure(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/events", {"src/batchops/events/new-rule.json": "{}\n"})
    assert routed(repo, *MR) == set(ROUTES)


def test_change_to_docs_only_runs_no_child(scratch_repo: Callable[[], ScratchRepo]) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/docs", {"docs/notes.md": "notes\n"})
    assert routed(repo, *MR) == set()


def test_approval_trigger_pipeline_runs_only_model_deploy(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    variables = (
        "--variable",
        "CI_PIPELINE_SOURCE=trigger",
        "--variable",
        f"MODEL_PACKAGE_ARN={ARN}",
    )
    result = repo.gcl("--list-json", *variables)
    assert result.returncode == 0, result.stderr
    jobs = result.jobs()
    active = {name for name, job in jobs.items() if job["when"] != "never"}
    assert active == {"trigger-variables", "model-deploy"}
    assert jobs["trigger-variables"]["stage"] == "check"
    assert jobs["model-deploy"]["stage"] == "route", "the deploy starts only after the check"


@pytest.mark.parametrize(
    ("variables", "passes"),
    [({"MODEL_PACKAGE_ARN": ARN, "DEPLOY_ENV": "staging"}, True), ({"PYTHONPATH": "/x"}, False)],
)
def test_the_trigger_variables_job_refuses_undocumented_variables(
    scratch_repo: Callable[[], ScratchRepo], variables: dict[str, str], passes: bool
) -> None:
    """Run as GitLab would run it for a trigger token's pipeline (TRIGGER_PAYLOAD file)."""
    repo = scratch_repo()
    payload = repo.home / "trigger-payload.json"
    payload.write_text(json.dumps({"ref": "main", "variables": variables}), encoding="utf-8")
    result = repo.gcl(
        "trigger-variables",
        "--force-shell-executor",
        "--variable",
        "CI_PIPELINE_SOURCE=trigger",
        "--variable",
        f"TRIGGER_PAYLOAD={payload}",
        *(arg for name, value in variables.items() for arg in ("--variable", f"{name}={value}")),
    )
    output = result.stdout + result.stderr
    assert (result.returncode == 0) == passes, output
    if not passes:
        assert (
            "does not accept: PYTHONPATH" in output and "/x" not in output.split("PYTHONPATH")[-1]
        )


def test_on_main_deploy_production_is_manual_and_staging_automatic(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    result = repo.gcl("--file", ".gitlab/ci/model-deploy.yml", "--list-json")
    assert result.returncode == 0, result.stderr
    jobs = result.jobs()
    assert jobs["deploy-staging"]["when"] == "on_success"
    assert jobs["deploy-production"]["when"] == "manual"
    assert jobs["deploy-production"]["allow_failure"] is False
    assert jobs["destroy-production"]["when"] == "manual"


def test_on_a_merge_request_nothing_deploys(scratch_repo: Callable[[], ScratchRepo]) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/deploy", {"model-deploy/pipelines/extra.py": "X = 1\n"})
    result = repo.gcl(
        "--file",
        ".gitlab/ci/model-deploy.yml",
        "--list-json",
        "--variable",
        "PARENT_PIPELINE_SOURCE=merge_request_event",
    )
    jobs = result.jobs()
    active = {name for name, job in jobs.items() if job["when"] != "never"}
    assert active == {"lint", "unit-tests", "golden-definitions"}


def test_trigger_pipeline_skips_checks_and_deploys_staging(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    result = repo.gcl(
        "--file",
        ".gitlab/ci/model-deploy.yml",
        "--list-json",
        "--variable",
        "PARENT_PIPELINE_SOURCE=trigger",
    )
    jobs = result.jobs()
    active = {name: job["when"] for name, job in jobs.items() if job["when"] != "never"}
    assert active == {
        "deploy-staging": "on_success",
        "deploy-production": "manual",
        "destroy-staging": "manual",
        "destroy-production": "manual",
    }


TAG = ("--variable", "CI_COMMIT_TAG=v1.2.0", "--variable", "CI_COMMIT_BRANCH=")
CHECKS = {
    "model-build": {"lint", "unit-tests", "golden-definitions"},
    "model-deploy": {"lint", "unit-tests", "golden-definitions"},
    "infrastructure": {
        "terraform-fmt",
        "terraform-validate",
        "tflint",
        "terraform-test",
        "checkov",
    },
}
PLANS = {"plan-data-science", "plan-staging", "plan-production"}


def active(repo: ScratchRepo, child: str, *variables: str) -> dict[str, str]:
    """Jobs of one child that would run, and how (on_success / manual)."""
    result = repo.gcl("--file", f".gitlab/ci/{child}.yml", "--list-json", *variables)
    assert result.returncode == 0, result.stderr
    return {name: job["when"] for name, job in result.jobs().items() if job["when"] != "never"}


def test_tag_pipeline_runs_every_child_and_only_their_checks(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    assert routed(repo, *TAG) == set(ROUTES)
    for child, checks in CHECKS.items():
        jobs = active(repo, child, *TAG, "--variable", "PARENT_PIPELINE_SOURCE=push")
        assert jobs == dict.fromkeys(checks, "on_success"), child


def test_merge_request_infrastructure_plans_every_account_and_applies_nothing(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    repo.branch_with("feature/kms", {"shared-modules/kms/main.tf": "# kms key\n"})
    jobs = active(
        repo, "infrastructure", "--variable", "PARENT_PIPELINE_SOURCE=merge_request_event"
    )
    assert jobs == dict.fromkeys(CHECKS["infrastructure"] | PLANS, "on_success")


def test_main_infrastructure_applies_staging_before_a_manual_production(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    result = repo.gcl(
        "--file",
        ".gitlab/ci/infrastructure.yml",
        "--list-json",
        "--variable",
        "PARENT_PIPELINE_SOURCE=push",
    )
    assert result.returncode == 0, result.stderr
    jobs = result.jobs()
    whens = {name: job["when"] for name, job in jobs.items() if job["when"] != "never"}
    assert whens == {
        **dict.fromkeys(CHECKS["infrastructure"] | PLANS, "on_success"),
        "apply-data-science": "on_success",
        "apply-staging": "on_success",
        "apply-production": "manual",
    }
    needs = {need["job"] for need in jobs["apply-production"]["needs"]}
    assert needs == {"plan-production", "apply-staging"}


def _recording_batchops(folder: Path) -> Path:
    """A ``batchops`` stand-in that records argv and the AWS identity it was given."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "calls.log"
    script = folder / "batchops"
    script.write_text(
        "#!/usr/bin/env bash\n"
        f"{{ printf 'argv:'; printf ' %s' \"$@\"; echo;\n"
        '  echo "role=$AWS_ROLE_ARN"; echo "session=$AWS_ROLE_SESSION_NAME";\n'
        '  echo "token=$(cat "$AWS_WEB_IDENTITY_TOKEN_FILE")";\n'
        '  echo "mode=$(stat -c %a "$AWS_WEB_IDENTITY_TOKEN_FILE")";\n'
        f'  echo "file=$AWS_WEB_IDENTITY_TOKEN_FILE"; }} >> {log}\n',
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def _run_deploy(repo: ScratchRepo, job: str, *variables: str) -> tuple[int, str, str]:
    log = _recording_batchops(repo.home / "bin")
    result = repo.gcl(
        "--file",
        ".gitlab/ci/model-deploy.yml",
        job,
        "--force-shell-executor",
        "--variable",
        "MAKEFLAGS=n",
        "--variable",
        "AWS_ID_TOKEN=header.payload.signature",
        *variables,
        path_prefix=[repo.home / "bin"],
    )
    calls = log.read_text(encoding="utf-8") if log.exists() else ""
    return result.returncode, result.stdout + result.stderr, calls


@pytest.mark.parametrize(
    ("job", "role_variable", "role"),
    [
        ("deploy-staging", "STAGING_ROLE_ARN", STAGING_ROLE),
        ("deploy-production", "PRODUCTION_ROLE_ARN", PRODUCTION_ROLE),
    ],
)
def test_deploy_job_dry_run_assumes_its_account_role_through_oidc(
    scratch_repo: Callable[[], ScratchRepo], job: str, role_variable: str, role: str
) -> None:
    repo = scratch_repo()
    code, output, calls = _run_deploy(
        repo, job, "--variable", f"{role_variable}={role}", "--variable", f"MODEL_PACKAGE_ARN={ARN}"
    )
    assert code == 0, output
    env = job.removeprefix("deploy-")
    assert f"argv: deploy --env {env} --model-package-arn {ARN}\n" in calls
    assert f"role={role}\n" in calls
    assert "token=header.payload.signature\n" in calls
    assert "mode=600\n" in calls, "the ID token file must be private"
    token_file = next(line for line in calls.splitlines() if line.startswith("file="))[5:]
    assert not Path(token_file).exists(), "after_script must remove the token file"
    assert "make install" in output and ".venv-tools/bin/uv sync" in output  # make -n ran


def test_deploy_staging_without_a_model_package_lets_deploy_pick_the_latest(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    code, output, calls = _run_deploy(
        repo, "deploy-staging", "--variable", f"STAGING_ROLE_ARN={STAGING_ROLE}"
    )
    assert code == 0, output
    assert "argv: deploy --env staging\n" in calls


def test_deploy_job_without_its_role_variable_fails_with_a_clear_message(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    repo = scratch_repo()
    code, output, calls = _run_deploy(repo, "deploy-production")
    assert code != 0
    assert "expected an IAM role ARN: set the CI/CD variable PRODUCTION_ROLE_ARN" in output
    assert calls == "", "batchops must not run without credentials"


def test_gitlab_ci_local_rejects_a_child_that_needs_a_missing_job(
    scratch_repo: Callable[[], ScratchRepo],
) -> None:
    # The schema cannot see this; gitlab-ci-local (and GitLab) refuse the file.
    repo = scratch_repo()
    broken = repo.path / ".gitlab/ci/model-deploy.yml"
    broken.write_text(
        broken.read_text(encoding="utf-8").replace(
            "needs: [deploy-staging]", "needs: [deploy-stagin]"
        ),
        encoding="utf-8",
    )
    result = repo.gcl("--file", ".gitlab/ci/model-deploy.yml", "--list")
    assert result.returncode != 0
    assert "deploy-stagin" in result.stdout + result.stderr


COMPARED_KEYS = (
    "script",
    "before_script",
    "after_script",
    "variables",
    "id_tokens",
    "environment",
    "resource_group",
    "rules",
    "stage",
    "interruptible",
    "allow_failure",
    "trigger",
)


def _normalised(key: str, value: object) -> object:
    """gitlab-ci-local spells ``trigger: include: FILE`` in its long form; so may we."""
    if key == "trigger" and isinstance(value, dict) and isinstance(value.get("include"), str):
        return {**value, "include": [{"local": value["include"]}]}
    return value


@pytest.mark.parametrize(
    "path", [p for p in CI_FILES if p.name != "templates.yml"], ids=lambda p: p.name
)
def test_our_expansion_matches_gitlab_ci_local_preview(
    scratch_repo: Callable[[], ScratchRepo], path: Path
) -> None:
    import yaml

    repo = scratch_repo()
    result = repo.gcl("--file", str(path.relative_to(REPO)), "--preview")
    assert result.returncode == 0, result.stderr
    preview = yaml.safe_load(result.stdout)
    ours = load(path).jobs
    for name, job in ours.items():
        theirs = preview[name]
        for key in COMPARED_KEYS:
            assert _normalised(key, job.get(key)) == _normalised(key, theirs.get(key)), (
                f"{path.name}:{name}.{key}"
            )
