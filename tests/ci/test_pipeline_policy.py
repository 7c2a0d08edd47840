"""Policy over the expanded CI configuration: what gitlab-ci-local cannot evaluate.

gitlab-ci-local ignores ``workflow:rules``, ``compare_to``, ``strategy: depend`` failures,
``id_tokens``, ``resource_group`` and ``deployment_tier``; these tests read the YAML after
includes, ``!reference`` and ``extends`` (``batchops.localcloud.gitlab.ci_yaml``) and check
them directly.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from ci_repo import CHILDREN, CI_FILES, load

from batchops.localcloud.gitlab.ci_yaml import Pipeline

ACCOUNTS = {"data-science": "DATA_SCIENCE", "staging": "STAGING", "production": "PRODUCTION"}
DEFAULT_BRANCH_RULE = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"


def _all_jobs() -> list[tuple[str, str, dict[str, Any]]]:
    jobs = []
    for path in CI_FILES:
        pipeline = load(path)
        jobs += [(path.name, name, job) for name, job in pipeline.jobs.items()]
    return jobs


def _aws_account(job: dict[str, Any]) -> str | None:
    """The account a job acts on, from what it runs: ``--env E`` or ``TF_ACCOUNT``."""
    text = "\n".join(str(line) for line in job.get("script") or [])
    if "golden-check" in text:
        return None
    match = re.search(r"batchops .*--env ([a-z-]+)", text)
    if match:
        return match.group(1)
    if re.search(r"terraform .*\b(plan|apply)\b", text):
        return str((job.get("variables") or {}).get("TF_ACCOUNT"))
    return None


def _is_production(job: dict[str, Any]) -> bool:
    environment = job.get("environment") or {}
    if isinstance(environment, str):
        environment = {"name": environment}
    return environment.get("deployment_tier") == "production" or "production" in str(
        environment.get("name", "")
    )


# ----- parent: workflow and routing ------------------------------------------------------
def test_workflow_runs_merge_requests_main_tags_and_the_approval_trigger(parent: Pipeline) -> None:
    rules = parent.config["workflow"]["rules"]
    conditions = [rule.get("if", "") for rule in rules if rule.get("when") != "never"]
    assert any('$CI_PIPELINE_SOURCE == "merge_request_event"' in c for c in conditions)
    assert any(c == DEFAULT_BRANCH_RULE for c in conditions)
    assert any(c == "$CI_COMMIT_TAG" for c in conditions)
    assert any('"trigger"' in c and "$MODEL_PACKAGE_ARN" in c for c in conditions)


def test_workflow_skips_branch_pipelines_that_have_an_open_merge_request(parent: Pipeline) -> None:
    rules = parent.config["workflow"]["rules"]
    mr_rule = next(i for i, r in enumerate(rules) if "merge_request_event" in r.get("if", ""))
    dedupe = next(
        i
        for i, r in enumerate(rules)
        if "$CI_OPEN_MERGE_REQUESTS" in r.get("if", "") and r.get("when") == "never"
    )
    branch_rule = next(i for i, r in enumerate(rules) if r.get("if") == DEFAULT_BRANCH_RULE)
    assert mr_rule < dedupe < branch_rule


def test_workflow_refuses_trigger_pipelines_without_a_model_package(parent: Pipeline) -> None:
    rules = parent.config["workflow"]["rules"]
    assert {"if": '$CI_PIPELINE_SOURCE == "trigger"', "when": "never"} in rules


def test_each_child_has_one_trigger_job_that_mirrors_its_status(parent: Pipeline) -> None:
    triggers = {name: job for name, job in parent.jobs.items() if "trigger" in job}
    assert set(triggers) == set(CHILDREN)
    for name, job in triggers.items():
        assert job["trigger"]["include"] == f".gitlab/ci/{name}.yml"
        assert job["trigger"]["strategy"] == "depend", (
            f"{name}: a failing child must fail the parent"
        )
        assert job["variables"]["PARENT_PIPELINE_SOURCE"] == "$CI_PIPELINE_SOURCE"


@pytest.mark.parametrize("child", sorted(CHILDREN))
def test_merge_request_routing_compares_to_main(parent: Pipeline, child: str) -> None:
    rules = parent.jobs[child]["rules"]
    mr_rules = [r for r in rules if "merge_request_event" in r.get("if", "")]
    assert mr_rules, f"{child}: no merge-request rule"
    for rule in mr_rules:
        assert rule["changes"]["compare_to"] == "refs/heads/main"
        assert rule["changes"]["paths"], f"{child}: empty path list"


def test_routing_sends_each_owned_folder_to_its_child_and_shared_files_to_both(
    parent: Pipeline,
) -> None:
    def paths(child: str) -> set[str]:
        rule = next(r for r in parent.jobs[child]["rules"] if "changes" in r)
        return set(rule["changes"]["paths"])

    assert "model-build/**/*" in paths("model-build")
    assert "model-deploy/**/*" in paths("model-deploy")
    assert {"shared-modules/**/*", "accounts/**/*", "policies/**/*"} <= paths("infrastructure")
    for shared in ("src/**/*", "pyproject.toml", "uv.lock"):
        assert shared in paths("model-build") and shared in paths("model-deploy")
    assert "model-deploy/**/*" not in paths("model-build")
    assert "model-build/**/*" not in paths("model-deploy")
    for child, path in CHILDREN.items():
        assert f".gitlab/ci/{path.name}" in paths(child), f"{child}: own CI file not routed"


def test_only_model_deploy_runs_on_the_approval_trigger(parent: Pipeline) -> None:
    deploy_first = parent.jobs["model-deploy"]["rules"][0]
    assert deploy_first == {"if": '$CI_PIPELINE_SOURCE == "trigger" && $MODEL_PACKAGE_ARN'}
    assert parent.jobs["model-deploy"]["trigger"]["forward"]["pipeline_variables"] is True
    for name in ("model-build", "infrastructure", "repo-checks"):
        assert {"if": '$CI_PIPELINE_SOURCE == "trigger"', "when": "never"} in parent.jobs[name][
            "rules"
        ], name


def test_parent_defines_no_global_variables_that_would_override_children(parent: Pipeline) -> None:
    # Global variables of the parent reach children as trigger variables and beat their
    # job variables (GitLab precedence), so the parent keeps none.
    assert "variables" not in parent.config


# ----- children: deploy gates -----------------------------------------------------------
def test_deploy_staging_runs_on_main_and_on_the_approval_pipeline(
    children: dict[str, Pipeline],
) -> None:
    job = children["model-deploy"].jobs["deploy-staging"]
    assert job["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "on_success"}]
    assert job["environment"]["name"] == "staging"
    assert job["environment"]["deployment_tier"] == "staging"
    assert job["resource_group"] == "aws-staging"
    script = "\n".join(job["script"])
    assert '${MODEL_PACKAGE_ARN:+--model-package-arn "$MODEL_PACKAGE_ARN"}' in script
    # The checks it waits for are skipped on the approval pipeline, so they are optional.
    assert all(need["optional"] for need in job["needs"])


def test_deploy_production_is_a_manual_protected_gate_after_staging(
    children: dict[str, Pipeline],
) -> None:
    job = children["model-deploy"].jobs["deploy-production"]
    assert job["environment"]["name"] == "production"
    assert job["environment"]["deployment_tier"] == "production"
    assert job["needs"] == ["deploy-staging"]
    assert job["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "manual"}]
    assert job.get("allow_failure", False) is False, "a failed production deploy must fail"


def test_destroy_jobs_are_manual_and_stop_their_environment(children: dict[str, Pipeline]) -> None:
    jobs = children["model-deploy"].jobs
    for env in ("staging", "production"):
        job = jobs[f"destroy-{env}"]
        assert job["environment"] == {"name": env, "deployment_tier": env, "action": "stop"}
        assert job["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "manual"}]
        assert jobs[f"deploy-{env}"]["environment"]["on_stop"] == f"destroy-{env}"
        assert f"pipelines delete --project model-deploy --env {env}" in job["script"][0]


def _params(jobs: list[tuple[str, str, dict[str, Any]]]) -> list[Any]:
    return [pytest.param(f, n, j, id=f"{f}:{n}") for f, n, j in jobs]


PRODUCTION_JOBS = [(f, n, j) for f, n, j in _all_jobs() if _is_production(j)]


def test_there_are_production_jobs_to_check() -> None:
    names = {name for _, name, _ in PRODUCTION_JOBS}
    assert {"deploy-production", "destroy-production", "apply-production"} <= names


@pytest.mark.parametrize(("file", "name", "job"), _params(PRODUCTION_JOBS))
def test_production_jobs_are_manual_protected_serialised_and_main_only(
    file: str, name: str, job: dict[str, Any]
) -> None:
    # AWS sees an environment's protection and tier in the ID token's sub, not its name: the
    # two protected production environments get distinct tiers so that each production role
    # trusts exactly one of them.
    tiers = {"production": "production", "infrastructure/production": "other"}
    assert job["environment"]["name"] in tiers, f"{file}:{name}"
    assert job["environment"]["deployment_tier"] == tiers[job["environment"]["name"]]
    assert job["resource_group"] == "aws-production", f"{file}:{name}"
    assert job["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "manual"}], f"{file}:{name}"
    assert job["variables"]["AWS_ROLE_ARN"].startswith("$PRODUCTION_")


def test_every_deploy_environment_is_serialised_per_account() -> None:
    for file, name, job in _all_jobs():
        if "environment" not in job:
            continue
        account = _aws_account(job)
        assert account in ACCOUNTS, f"{file}:{name}: environment job acts on no known account"
        assert job["resource_group"] == f"aws-{account}", f"{file}:{name}"
        assert job.get("interruptible") is False, f"{file}:{name}: a deploy must not be cancelled"


# ----- OIDC and keys -------------------------------------------------------------------
AWS_JOBS = [(f, n, j) for f, n, j in _all_jobs() if _aws_account(j)]


def test_there_are_aws_jobs_to_check() -> None:
    assert len(AWS_JOBS) >= 10


@pytest.mark.parametrize(("file", "name", "job"), _params(AWS_JOBS))
def test_aws_jobs_use_an_oidc_token_and_the_role_of_their_account(
    file: str, name: str, job: dict[str, Any]
) -> None:
    account = _aws_account(job)
    assert account in ACCOUNTS, f"{file}:{name}: unknown account {account}"
    assert job["id_tokens"]["AWS_ID_TOKEN"]["aud"], f"{file}:{name}: no ID token audience"
    role = job["variables"]["AWS_ROLE_ARN"]
    assert re.fullmatch(rf"\${ACCOUNTS[account]}_(TF_PLAN_|TF_APPLY_)?ROLE_ARN", role), (
        f"{file}:{name} acts on {account} with {role}"
    )
    assert job["variables"]["AWS_ROLE_VARIABLE"] == role.lstrip("$")
    assert job["variables"]["AWS_WEB_IDENTITY_TOKEN_FILE"]
    before = "\n".join(job["before_script"])
    assert 'printf \'%s\' "$AWS_ID_TOKEN" > "$AWS_WEB_IDENTITY_TOKEN_FILE"' in before
    assert 'rm -f "$AWS_WEB_IDENTITY_TOKEN_FILE"' in job["after_script"]


def test_terraform_applies_use_the_apply_role_and_plans_the_read_only_role() -> None:
    for file, name, job in AWS_JOBS:
        role = job["variables"]["AWS_ROLE_ARN"]
        if name.startswith("apply-"):
            assert role.endswith("_TF_APPLY_ROLE_ARN"), f"{file}:{name}"
            assert job["rules"][0]["if"] == DEFAULT_BRANCH_RULE
        elif name.startswith("plan-"):
            assert role.endswith("_TF_PLAN_ROLE_ARN"), f"{file}:{name}"


def test_jobs_that_do_not_touch_aws_get_no_id_token() -> None:
    for file, name, job in _all_jobs():
        if not _aws_account(job):
            assert "id_tokens" not in job, f"{file}:{name}: token handed to a job without AWS work"


STATIC_KEY_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


@pytest.mark.parametrize("path", CI_FILES, ids=lambda p: p.name)
def test_no_static_aws_keys_anywhere_in_ci_files(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    for key in STATIC_KEY_NAMES:
        assert key not in text, f"{path.name} mentions {key}"
    assert not re.search(r"\bAKIA[0-9A-Z]{16}\b", text), f"{path.name} holds an access key id"


# ----- hygiene: images, caches, interruptible ---------------------------------------------
def test_images_are_pinned_to_a_version() -> None:
    for file, name, job in _all_jobs():
        if "trigger" in job:
            continue
        image = job.get("image")
        assert image, f"{file}:{name} has no image"
        ref = image["name"] if isinstance(image, dict) else image
        tag = ref.rsplit(":", 1)[-1] if ":" in ref.split("/")[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{file}:{name}: {ref}"


def test_caches_are_keyed_on_lock_files() -> None:
    for file, name, job in _all_jobs():
        for cache in job.get("cache") or []:
            files = cache["key"]["files"]
            assert all(f.endswith((".lock", ".lock.hcl", "package-lock.json")) for f in files), (
                f"{file}:{name}: cache key {files}"
            )


def test_checks_are_interruptible_and_changes_are_not() -> None:
    for file, name, job in _all_jobs():
        if "trigger" in job:
            continue
        if _aws_account(job):
            assert job.get("interruptible") is False, f"{file}:{name}"
        else:
            assert job.get("interruptible") is True, f"{file}:{name}"


def test_every_job_stage_is_declared_and_needs_point_to_jobs() -> None:
    for path in CI_FILES:
        pipeline = load(path)
        stages = {*pipeline.stages, ".pre", ".post"}
        for name, job in pipeline.jobs.items():
            assert job.get("stage", "test") in stages, f"{path.name}:{name}"
            for need in job.get("needs") or []:
                target = need["job"] if isinstance(need, dict) else need
                assert target in pipeline.jobs, f"{path.name}:{name} needs unknown {target}"
            assert job.get("script") or job.get("trigger"), f"{path.name}:{name} has no script"


def test_security_reports_are_published(children: dict[str, Pipeline]) -> None:
    checkov = children["infrastructure"].jobs["checkov"]
    assert checkov["script"] == ["make checkov"]
    assert checkov["artifacts"]["when"] == "always"
    assert checkov["artifacts"]["reports"]["sast"]
    assert checkov["artifacts"]["reports"]["junit"]
    for account in ACCOUNTS:
        plan = children["infrastructure"].jobs[f"plan-{account}"]
        assert plan["artifacts"]["reports"]["terraform"] == "$TF_ROOT/plan-report.json"
        assert plan["artifacts"]["access"] == "developer"
        rules = [r["if"] for r in plan["rules"]]
        assert '$PARENT_PIPELINE_SOURCE == "merge_request_event"' in rules


def test_model_build_publishes_on_main_and_starts_training_on_demand(
    children: dict[str, Pipeline],
) -> None:
    jobs = children["model-build"].jobs
    assert jobs["upsert-pipelines"]["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "on_success"}]
    assert set(jobs["upsert-pipelines"]["needs"]) == {"lint", "unit-tests", "golden-definitions"}
    assert jobs["start-training"]["rules"] == [{"if": DEFAULT_BRANCH_RULE, "when": "manual"}]
    assert jobs["start-training"]["allow_failure"] is True
