"""The GitLab stand-in runs the model-deploy job of the CI file, not a retyped copy of it.

Defect 16.17: the stand-in used to run its own ``batchops deploy ...`` command line and
raised ``KeyError`` for a trigger without ``MODEL_PACKAGE_ARN``. It now reads
``deploy-$DEPLOY_ENV`` from ``.gitlab/ci/model-deploy.yml`` (includes, ``!reference``,
``extends``) and runs its lines, so a change to the CI file changes what the local path
runs. These tests run the stand-in on a scratch copy of the CI files whose deploy job is
changed, and read the repository's own job independently of the expansion code.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from batchops.localcloud.gitlab.ci_jobs import PlannedJob, plan_trigger
from batchops.localcloud.gitlab.standin import DEPLOY_CI_FILE, GitLabStandIn

REPO = Path(__file__).resolve().parents[2]
TOKEN = "glptt-test-token"


def _scratch_root(tmp_path: Path, script: list[str]) -> Path:
    """A copy of the repository's CI files whose ``deploy-staging`` runs ``script``."""
    root = tmp_path / "repo"
    shutil.copytree(REPO / ".gitlab", root / ".gitlab")
    shutil.copy(REPO / ".gitlab-ci.yml", root / ".gitlab-ci.yml")
    # The jobs' first line checks the trigger's variables with this standalone script.
    (root / "src/batchops").mkdir(parents=True)
    shutil.copy(REPO / "src/batchops/trigger_variables.py", root / "src/batchops")
    path = root / DEPLOY_CI_FILE
    text = path.read_text(encoding="utf-8")
    original = yaml.load(text, Loader=_Tolerant)["deploy-staging"]["script"]
    assert len(original) == 1, "the test rewrites the single script line of deploy-staging"
    replacement = "\n".join(f"    - {json.dumps(line)}" for line in script)
    old = f"    - {original[0]}"
    assert old in text
    path.write_text(text.replace(old, replacement, 1), encoding="utf-8")
    return root


class _Tolerant(yaml.SafeLoader):
    """Reads the CI file's text without expanding it (``!reference`` kept as a list)."""


_Tolerant.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))


ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/3"


def _planned(root: Path, **variables: str) -> dict[str, PlannedJob]:
    """The jobs the stand-in would run for an approval trigger with ``variables``."""
    plan = plan_trigger(root, {"MODEL_PACKAGE_ARN": ARN, **variables})
    return {job.name: job for job in plan.jobs}


def _refused(standin: GitLabStandIn, ref: str = "main", **variables: str) -> str:
    """A trigger GitLab answers 400 (workflow rules, the project's variable settings)."""
    status, answer = standin.trigger({"token": TOKEN, "ref": ref, "variables": variables})
    assert status == 400, answer
    return str(answer)


def _staging_job(pipeline: dict) -> dict:
    return next(j for j in pipeline["jobs"] if j["name"] == "deploy-staging")


def _run(standin: GitLabStandIn, ref: str = "main", **variables: str) -> dict:
    status, created = standin.trigger({"token": TOKEN, "ref": ref, "variables": variables})
    assert status == 201, created
    assert standin.wait_jobs(timeout=60)
    return next(p for p in standin.triggers() if p["id"] == created["id"])


@pytest.fixture()
def standin_on(tmp_path: Path):
    started: list[GitLabStandIn] = []

    def make(root: Path) -> GitLabStandIn:
        standin = GitLabStandIn(token=TOKEN, state_dir=tmp_path / "state", repo_root=root)
        standin.start()
        started.append(standin)
        return standin

    yield make
    for standin in started:
        standin.stop()


def test_the_deploy_job_is_the_ci_files_job() -> None:
    raw = yaml.load((REPO / DEPLOY_CI_FILE).read_text(encoding="utf-8"), Loader=_Tolerant)
    for environment in ("staging", "production"):
        job = _planned(REPO, DEPLOY_ENV=environment)[f"deploy-{environment}"]
        assert job.environment == environment
        # The job's own script lines come last, verbatim (shell expansion and all).
        script = raw[f"deploy-{environment}"]["script"]
        assert list(job.script[-len(script) :]) == script
        assert any("${MODEL_PACKAGE_ARN:+" in line for line in script)
        # Installing and the ID token are the local cloud's; nothing else is skipped.
        assert "make install" in job.provided
        assert any("AWS_WEB_IDENTITY_TOKEN_FILE" in line for line in job.provided)
        assert not any("make install" in line for line in job.script)
    assert _planned(REPO)["deploy-staging"].when == "on_success"


def test_an_edited_ci_file_changes_what_the_local_job_runs(tmp_path: Path, standin_on) -> None:
    root = _scratch_root(
        tmp_path,
        [
            'echo "deploying ${MODEL_PACKAGE_ARN:-the latest approved version}'
            ' to $CI_ENVIRONMENT_NAME"'
        ],
    )
    standin = standin_on(root)
    # No MODEL_PACKAGE_ARN: the CI file's workflow rules filter a trigger out, as GitLab does
    assert "Pipeline filtered out by workflow rules." in _refused(standin)
    pipeline = _run(standin, MODEL_PACKAGE_ARN=ARN)
    assert _staging_job(pipeline)["status"] == "success", pipeline
    log = Path(pipeline["job"]["log"]).read_text(encoding="utf-8")
    assert f"deploying {ARN} to staging" in log
    assert "$ echo " in log  # each line echoed as a runner does
    assert "# provided by the local cloud: make install" in log


def test_the_first_failing_line_fails_the_pipeline(tmp_path: Path, standin_on) -> None:
    root = _scratch_root(tmp_path, ["echo first", "false", "echo never"])
    pipeline = _run(standin_on(root), MODEL_PACKAGE_ARN=ARN)
    assert pipeline["status"] == "failed"
    assert pipeline["job"]["exit_code"] == 1
    log = Path(pipeline["job"]["log"]).read_text(encoding="utf-8")
    assert "first" in log and "never\n" not in log.replace("$ echo never\n", "")


def test_a_deploy_environment_without_a_job_plans_no_such_job() -> None:
    # A trigger runs what the jobs' rules select, as GitLab does: DEPLOY_ENV=qa names no
    # job, so none deploys to "qa" — only the CI file's own environments exist.
    planned = _planned(REPO, DEPLOY_ENV="qa")
    assert "deploy-qa" not in planned
    deploys = {j.environment for n, j in planned.items() if n.startswith("deploy-")}
    assert deploys == {"staging", "production"}


def test_a_trigger_on_another_ref_starts_no_job(tmp_path: Path, standin_on) -> None:
    standin = standin_on(_scratch_root(tmp_path, ["touch ran"]))
    assert "filtered out by workflow rules" in _refused(standin, "feature/x", MODEL_PACKAGE_ARN=ARN)
    assert not (tmp_path / "repo" / "ran").exists()


def test_the_job_refuses_a_variable_the_trigger_may_not_set(tmp_path: Path, standin_on) -> None:
    """The CI file's trigger-variable check runs first and sees exactly the trigger's names."""
    root = _scratch_root(tmp_path, ["touch deployed"])
    job = _planned(root)["deploy-staging"]
    assert job.script[0] == "python3 -I src/batchops/trigger_variables.py"
    standin = standin_on(root)
    # the project's settings refuse it at the trigger (issue 19); the job's own check is
    # tests/test_trigger_variables.py (what a maintainer-owned trigger would still pass)
    refused = _refused(standin, PYTHONPATH="/tmp/evil", MODEL_PACKAGE_ARN=ARN)
    assert "Insufficient permissions to set pipeline variables" in refused
    assert "/tmp/evil" not in refused
    assert not (root / "deployed").exists()
    pipeline = _run(standin, MODEL_PACKAGE_ARN=ARN, DEPLOY_ENV="staging")
    assert _staging_job(pipeline)["status"] == "success", pipeline
    log = Path(pipeline["job"]["log"]).read_text(encoding="utf-8")
    assert "$ python3 -I src/batchops/trigger_variables.py" in log
    assert (root / "deployed").exists()
