"""Who is asking, and whether CI could become the account's roles (identity and IAM checks)."""

from __future__ import annotations

from typing import Any

from batchops.doctor.base import Context, Failure
from batchops.doctor.policies import as_list
from batchops.oidc_trust import CiJob, issuer_host, job_claims, trust_refusal

RUNBOOK = "README 'To your AWS accounts'"

#: The CI jobs that act on each account with its deploy role, as .gitlab/ci/*.yml declares
#: them (environment, tier; protected as `batchops gitlab configure` makes them). A test
#: keeps these equal to the CI files.
DEPLOY_JOBS: dict[str, tuple[CiJob, ...]] = {
    "data-science": (CiJob(environment="data-science", deployment_tier="other"), CiJob()),
    "staging": (CiJob(environment="staging", deployment_tier="staging"),),
    "production": (
        CiJob(environment="production", environment_protected=True, deployment_tier="production"),
    ),
}
APPLY_JOBS: dict[str, CiJob] = {
    "data-science": CiJob(environment="infrastructure/data-science", deployment_tier="other"),
    "staging": CiJob(environment="infrastructure/staging", deployment_tier="staging"),
    "production": CiJob(
        environment="infrastructure/production", environment_protected=True, deployment_tier="other"
    ),
}
#: Jobs that must not get a production role: any job on main outside the protected
#: environment, another environment, and the other production gate.
PRODUCTION_INTRUDERS: dict[str, tuple[CiJob, ...]] = {
    "deploy": (
        CiJob(),
        CiJob(environment="staging", deployment_tier="staging"),
        APPLY_JOBS["production"],
    ),
    "apply": (
        CiJob(),
        CiJob(environment="staging", deployment_tier="staging"),
        *DEPLOY_JOBS["production"],
    ),
}
FEATURE_BRANCH = CiJob(ref="doctor/feature-branch")
PLAN_ROLE, APPLY_ROLE = "batchops-terraform-plan", "batchops-terraform-apply"


def caller_identity(context: Context) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    settings = context.settings
    expected = f"the {settings.environment} account {settings.account_id}"
    try:
        identity = context.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise Failure(
            f"no AWS credentials found; sign in to {expected} (e.g. `aws sso login` and "
            "AWS_PROFILE) or pass --endpoint for the local cloud",
            "nothing else was checked",
        ) from None
    except (ClientError, BotoCoreError) as exc:
        from batchops.aws import error_message

        raise Failure(
            f"the credentials were refused ({error_message(exc)}); sign in to {expected}",
            "nothing else was checked",
        ) from None
    account = str(identity["Account"])
    if account != settings.account_id:
        raise Failure(
            f"the credentials are of account {account} ({identity['Arn']}), expected {expected}",
            "use credentials of that account; nothing else was checked",
        )
    return f"{identity['Arn']} in {expected}"


def provider_arn(context: Context) -> str:
    host = issuer_host(context.settings.gitlab_url)
    return f"arn:aws:iam::{context.settings.account_id}:oidc-provider/{host}"


def oidc_provider(context: Context) -> str:
    iam, settings = context.client("iam"), context.settings
    arn = provider_arn(context)
    listed = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if arn not in listed:
        raise Failure(
            f"no IAM OIDC provider for {settings.gitlab_url} (CI cannot authenticate)",
            f"apply accounts/bootstrap for {settings.environment} ({RUNBOOK})",
        )
    client_ids = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"]
    if settings.gitlab_url not in client_ids:
        raise Failure(
            f"{arn} lists client ids {sorted(client_ids)}, not the audience CI requests "
            f"({settings.gitlab_url}, id_tokens aud $CI_SERVER_URL)",
            "re-apply accounts/bootstrap (it sets the client id list)",
        )
    return f"{arn}, audience {settings.gitlab_url}"


def _role(context: Context, name: str, remedy: str) -> dict[str, Any]:
    iam = context.client("iam")
    try:
        return dict(iam.get_role(RoleName=name)["Role"])
    except iam.exceptions.NoSuchEntityException:
        raise Failure(f"role {name} does not exist", remedy) from None


def _has_policies(context: Context, name: str) -> bool:
    iam = context.client("iam")
    inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
    attached = iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    return bool(inline or attached)


def _refusal(context: Context, role: dict[str, Any], job: CiJob) -> str | None:
    settings = context.settings
    claims = job_claims(settings.gitlab_url, settings.gitlab_project, job)
    return trust_refusal(
        role["AssumeRolePolicyDocument"], claims, provider_arn=provider_arn(context)
    )


def _describe(job: CiJob) -> str:
    where = f"environment {job.environment}" if job.environment else "no environment"
    return f"a job on {job.ref} ({where})"


def deploy_role(context: Context) -> str:
    settings = context.settings
    name, remedy = settings.access_role_name, f"apply accounts/{settings.environment} ({RUNBOOK})"
    role = _role(context, name, remedy)
    for job in DEPLOY_JOBS[settings.environment]:
        refusal = _refusal(context, role, job)
        if refusal:
            raise Failure(f"{name} refuses the deploy job, {_describe(job)}: {refusal}", remedy)
    if settings.environment == "production":
        for intruder in PRODUCTION_INTRUDERS["deploy"]:
            if _refusal(context, role, intruder) is None:
                raise Failure(
                    f"{name} accepts {_describe(intruder)}: only the protected production "
                    "environment may deploy to production",
                    remedy,
                )
    if not _has_policies(context, name):
        raise Failure(f"{name} has no permissions policy", remedy)
    gate = (
        "protected production environment only" if settings.environment == "production" else "main"
    )
    return f"{name} trusts {settings.gitlab_project} ({gate}) and has its policy"


def terraform_roles(context: Context) -> str:
    settings = context.settings
    remedy = f"apply accounts/bootstrap for {settings.environment} ({RUNBOOK})"
    plan, apply = _role(context, PLAN_ROLE, remedy), _role(context, APPLY_ROLE, remedy)
    refusal = _refusal(context, plan, FEATURE_BRANCH)
    if refusal:
        raise Failure(f"{PLAN_ROLE} refuses merge-request pipelines: {refusal}", remedy)
    job = APPLY_JOBS[settings.environment]
    refusal = _refusal(context, apply, job)
    if refusal:
        raise Failure(f"{APPLY_ROLE} refuses the apply job, {_describe(job)}: {refusal}", remedy)
    intruders = [FEATURE_BRANCH]
    if settings.environment == "production":
        intruders += PRODUCTION_INTRUDERS["apply"]
    for intruder in intruders:
        if _refusal(context, apply, intruder) is None:
            raise Failure(f"{APPLY_ROLE} accepts {_describe(intruder)}", remedy)
    for name in (PLAN_ROLE, APPLY_ROLE):
        if not _has_policies(context, name):
            raise Failure(f"role {name} has no permissions policy", remedy)
    return (
        f"{PLAN_ROLE} (any branch, read-only) and {APPLY_ROLE} ({job.environment}) as CI needs them"
    )


def execution_role(context: Context) -> str:
    settings = context.settings
    name = settings.role_arn.rsplit("/", 1)[-1]
    remedy = f"apply accounts/{settings.environment} ({RUNBOOK})"
    role = _role(context, name, remedy)
    services = [
        str(principal)
        for s in role["AssumeRolePolicyDocument"].get("Statement", [])
        if s.get("Effect") == "Allow" and "sts:AssumeRole" in str(s.get("Action"))
        for principal in as_list((s.get("Principal") or {}).get("Service"))
    ]
    if "sagemaker.amazonaws.com" not in services:
        raise Failure(
            f"{name} is not trusted by sagemaker.amazonaws.com (found {services})", remedy
        )
    if role["Arn"] != settings.role_arn:
        raise Failure(
            f"{name} is {role['Arn']}, the settings' role_arn says {settings.role_arn}", remedy
        )
    if not _has_policies(context, name):
        raise Failure(
            f"{name} has no permissions policy: every pipeline step would be denied", remedy
        )
    return f"{name}, trusted by SageMaker, with its policy"
