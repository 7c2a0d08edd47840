"""The GitLab stand-in runs what the CI files say and accepts only what the project allows."""

from __future__ import annotations

import shutil
from pathlib import Path

import gitlab
import pytest

from batchops.localcloud.gitlab.standin import GitLabStandIn

TOKEN = "glptt-standin-test"
READ = "glpat-standin-read"
ARN = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/3"


def repo_copy(repo_root: Path, tmp_path: Path) -> Path:
    """The repository's CI files (and config) in a folder a test may change."""
    copy = tmp_path / "repo"
    (copy / ".gitlab").mkdir(parents=True)
    shutil.copy(repo_root / ".gitlab-ci.yml", copy / ".gitlab-ci.yml")
    shutil.copytree(repo_root / ".gitlab" / "ci", copy / ".gitlab" / "ci")
    shutil.copytree(repo_root / "config", copy / "config")
    # the jobs' first line checks the trigger's variables with this standalone script
    (copy / "src" / "batchops").mkdir(parents=True)
    shutil.copy(repo_root / "src" / "batchops" / "trigger_variables.py", copy / "src" / "batchops")
    return copy


@pytest.fixture()
def standin(tmp_path: Path, repo_root: Path):  # type: ignore[no-untyped-def]
    server = GitLabStandIn(
        token=TOKEN,
        api_token=READ,
        state_dir=tmp_path / "state",
        repo_root=repo_copy(repo_root, tmp_path),
    )
    server.start()
    yield server
    server.stop()


def trigger(standin: GitLabStandIn, variables: dict[str, str], token: str = TOKEN) -> object:
    client = gitlab.Gitlab(standin.url, timeout=10, keep_base_url=True)
    return client.projects.get("ml/batchops", lazy=True).trigger_pipeline("main", token, variables)


def test_the_deploy_job_is_the_ci_files_job_and_follows_its_changes(standin) -> None:  # type: ignore[no-untyped-def]
    """Change the deploy job's script in the CI file: the stand-in runs the new script."""
    ci = standin.repo_root / ".gitlab" / "ci" / "model-deploy.yml"
    text = ci.read_text()
    arn_option = '${MODEL_PACKAGE_ARN:+--model-package-arn "$MODEL_PACKAGE_ARN"}'
    original = f"batchops deploy --env staging {arn_option}"
    assert original in text, "the deploy job's script line"
    ci.write_text(text.replace(original, 'echo "deploying $MODEL_PACKAGE_ARN from the CI file"', 1))
    trigger(standin, {"MODEL_PACKAGE_ARN": ARN, "DEPLOY_ENV": "staging"})
    assert standin.wait_jobs(60)
    [pipeline] = standin.triggers()
    jobs = {j["name"]: j for j in pipeline["jobs"]}
    assert jobs["deploy-staging"]["status"] == "success"
    assert jobs["deploy-production"]["status"] == "manual", "the protected gate waits"
    assert pipeline["status"] == "manual"
    assert pipeline["name"] == f"Deploy approved model {ARN}"
    log = Path(pipeline["job"]["log"]).read_text()
    assert f"deploying {ARN} from the CI file" in log


def test_a_trigger_without_the_model_package_arn_is_filtered_out_by_the_workflow_rules(
    standin,
) -> None:  # type: ignore[no-untyped-def]
    """No KeyError: GitLab's workflow rules make such a trigger create no pipeline."""
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as refused:
        trigger(standin, {"DEPLOY_ENV": "staging"})
    assert refused.value.response_code == 400
    assert "filtered out by workflow rules" in str(refused.value)
    assert standin.triggers() == []


@pytest.mark.parametrize("name", ["PYTHONPATH", "BASH_ENV", "LD_PRELOAD", "CI_JOB_TOKEN"])
def test_a_variable_the_deploy_pipeline_does_not_document_is_refused(  # type: ignore[no-untyped-def]
    standin, name: str, caplog
) -> None:
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as refused:
        trigger(standin, {"MODEL_PACKAGE_ARN": ARN, name: "/tmp/evil"})
    assert refused.value.response_code == 400
    assert "Insufficient permissions to set pipeline variables" in str(refused.value)
    assert standin.triggers() == []
    assert name in caplog.text and "/tmp/evil" not in caplog.text, "named, never its value"


def test_a_trigger_needs_the_trigger_token_and_reads_need_an_api_token(standin) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(gitlab.exceptions.GitlabCreateError) as refused:
        trigger(standin, {"MODEL_PACKAGE_ARN": ARN}, token="guessed")
    assert refused.value.response_code == 404
    anonymous = gitlab.Gitlab(standin.url, timeout=10, keep_base_url=True)
    with pytest.raises(gitlab.exceptions.GitlabAuthenticationError) as unauthorised:
        anonymous.projects.get("ml/batchops", lazy=True).pipelines.list(get_all=False)
    assert unauthorised.value.response_code == 401
    reader = gitlab.Gitlab(standin.url, private_token=READ, timeout=10, keep_base_url=True)
    assert reader.projects.get("ml/batchops", lazy=True).pipelines.list(get_all=False) == []


def test_pipelines_survive_a_restart_and_a_running_job_is_failed(tmp_path, repo_root) -> None:  # type: ignore[no-untyped-def]
    repo = repo_copy(repo_root, tmp_path)
    ci = repo / ".gitlab" / "ci" / "model-deploy.yml"
    ci.write_text(ci.read_text().replace("batchops deploy --env staging", "sleep 30; true", 1))
    first = GitLabStandIn(token=TOKEN, api_token=READ, state_dir=tmp_path / "s", repo_root=repo)
    first.start()
    trigger(first, {"MODEL_PACKAGE_ARN": ARN})
    first.stop()  # the job is still running: as if the local cloud died
    second = GitLabStandIn(token=TOKEN, api_token=READ, state_dir=tmp_path / "s", repo_root=repo)
    [pipeline] = second.triggers()
    assert pipeline["variables"]["MODEL_PACKAGE_ARN"] == ARN
    assert pipeline["status"] == "failed"
    assert "stopped while the pipeline ran" in pipeline["failure_reason"]


def test_only_a_principal_allowed_to_read_the_secret_can_read_the_trigger_token(  # type: ignore[no-untyped-def]
    cloud, monkeypatch
) -> None:
    """The token's holder can trigger deploys. The notify function's role (no
    secretsmanager:GetSecretValue in its policy) must get AccessDenied, as on AWS (the
    local cloud's IAM enforcement, issue 14)."""
    from botocore.exceptions import ClientError

    from batchops.aws import Clients
    from batchops.config import load_settings

    monkeypatch.setitem(cloud.options, "authorization", "enforce")
    settings = load_settings("data-science")
    notify_role = f"arn:aws:iam::{settings.account_id}:role/batchops-notify"
    clients = Clients(region=settings.region, endpoint=cloud.endpoint, role_arn=notify_role)
    with pytest.raises(ClientError) as denied:
        clients.client("secretsmanager").get_secret_value(
            SecretId=settings.gitlab_trigger_secret_name
        )
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
