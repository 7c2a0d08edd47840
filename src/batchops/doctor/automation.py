"""Event wiring, functions, the trigger secret, pipelines and their images."""

from __future__ import annotations

import json
import re
from typing import Any

from batchops.config import load_settings
from batchops.doctor.base import Context, Failure
from batchops.doctor.policies import allows, load

RUNBOOK = "README 'To your AWS accounts'"

#: Event rules (pattern file stems, rule `batchops-<stem>`) per account, as
#: shared-modules/batchops-account/wiring.tf deploys them (a test compares it with the
#: local cloud's bootstrap and the Terraform root tests assert the same sets).
RULES: dict[str, tuple[str, ...]] = {
    "data-science": (
        "approval-to-deploy",
        "model-quality-failed-to-retrain",
        "pipeline-status-to-notify",
        "training-data-to-training-pipeline",
    ),
    "staging": (
        "inference-data-to-inference-pipeline",
        "inference-run-to-promotion-evidence",
        "model-quality-failed-to-data-science-bus",
        "pipeline-status-to-notify",
    ),
    "production": (
        "inference-data-to-inference-pipeline",
        "model-quality-failed-to-data-science-bus",
        "pipeline-status-to-notify",
    ),
}
#: Functions besides the notify function, per account (functions.tf).
EXTRA_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "data-science": (
        "batchops-pipeline-trigger",
        "batchops-approval-trigger",
        "batchops-retrain-trigger",
    ),
    "staging": ("batchops-pipeline-trigger", "batchops-promotion-evidence"),
    "production": ("batchops-pipeline-trigger",),
}
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]+))?$"
)


def _remedy(context: Context) -> str:
    return f"apply accounts/{context.settings.environment} ({RUNBOOK})"


def event_rules(context: Context) -> str:
    events = context.client("events")
    expected = RULES[context.settings.environment]
    for stem in expected:
        name = f"batchops-{stem}"
        try:
            rule = events.describe_rule(Name=name)
        except events.exceptions.ResourceNotFoundException:
            raise Failure(f"event rule {name} does not exist", _remedy(context)) from None
        if rule.get("State") != "ENABLED":
            raise Failure(f"event rule {name} is {rule.get('State')}", _remedy(context))
        if not events.list_targets_by_rule(Rule=name).get("Targets"):
            raise Failure(f"event rule {name} has no target", _remedy(context))
    return f"{len(expected)} rules enabled, each with its target"


def bus_policy(context: Context) -> str:
    """The data-science default bus accepts the workload accounts' forwarded events."""
    described = context.client("events").describe_event_bus(Name="default")
    policy = load(described.get("Policy") or "{}")
    for env in ("staging", "production"):
        account = load_settings(env).account_id
        root = f"arn:aws:iam::{account}:root"
        if not allows(policy, principal_arn=root, account_id=account, action="events:PutEvents"):
            raise Failure(
                f"the default event bus does not accept events from {env} ({account}): "
                "model-quality failures there cannot start retraining",
                _remedy(context),
            )
    return "the default bus accepts events from staging and production"


def functions(context: Context) -> str:
    settings = context.settings
    lam = context.client("lambda")
    names = [settings.notification_function_name, *EXTRA_FUNCTIONS[settings.environment]]
    for name in names:
        try:
            configuration = lam.get_function(FunctionName=name)["Configuration"]
        except lam.exceptions.ResourceNotFoundException:
            raise Failure(f"Lambda function {name} does not exist", _remedy(context)) from None
        state = configuration.get("State", "Active")
        if state != "Active":
            raise Failure(f"Lambda function {name} is {state}", _remedy(context))
    return f"{', '.join(names)} active"


def trigger_secret(context: Context) -> str:
    settings = context.settings
    secrets = context.client("secretsmanager")
    name = settings.gitlab_trigger_secret_name
    try:
        described = secrets.describe_secret(SecretId=name)
    except secrets.exceptions.ResourceNotFoundException:
        raise Failure(f"secret {name} does not exist", _remedy(context)) from None
    if described.get("DeletedDate"):
        raise Failure(f"secret {name} is scheduled for deletion", _remedy(context))
    key = described.get("KmsKeyId")
    if not key or context.key_arn(key) != context.key_arn(settings.kms_key):
        raise Failure(f"secret {name} is not encrypted with the account key", _remedy(context))
    stages = described.get("VersionIdsToStages") or {}
    if not any("AWSCURRENT" in labels for labels in stages.values()):
        raise Failure(
            f"secret {name} holds no token yet (the approval Lambda cannot trigger GitLab)",
            "run `batchops gitlab configure` (it creates the trigger and stores its token)",
        )
    return f"{name} holds a token (value not read), encrypted with the account key"


def _pipeline_names(context: Context) -> list[str]:
    settings = context.settings
    if settings.environment == "data-science":
        return [settings.pipeline_train, settings.pipeline_trainwhpo]
    return [settings.pipeline_inf]


def _deployed(context: Context) -> dict[str, dict[str, Any]]:
    from botocore.exceptions import ClientError

    sagemaker = context.client("sagemaker")
    found = {}
    for name in _pipeline_names(context):
        try:
            found[name] = sagemaker.describe_pipeline(PipelineName=name)
        except ClientError as exc:
            # AWS answers ResourceNotFound; moto ValidationException "Could not find"
            error = exc.response["Error"]
            if error["Code"] == "ResourceNotFound" or "Could not find" in error.get("Message", ""):
                continue
            raise
    return found


def pipelines(context: Context) -> str:
    settings = context.settings
    deployed = _deployed(context)
    command = "pipelines upsert" if settings.environment == "data-science" else "deploy"
    for name, described in deployed.items():
        if described.get("RoleArn") != settings.role_arn:
            raise Failure(
                f"pipeline {name} runs as {described.get('RoleArn')}, not the execution role "
                f"{settings.role_arn}",
                f"upsert it again (batchops {command})",
            )
    missing = [n for n in _pipeline_names(context) if n not in deployed]
    if not deployed:
        return f"none deployed yet ({', '.join(missing)}); the first upsert or deploy creates them"
    tail = f"; not deployed yet: {', '.join(missing)}" if missing else ""
    return f"{', '.join(deployed)} run as the execution role{tail}"


def _image_uris(definition: Any) -> set[str]:
    """Image URIs a definition names, parameters resolved to their defaults."""
    parameters = {
        p["Name"]: p.get("DefaultValue")
        for p in definition.get("Parameters", [])
        if isinstance(p, dict)
    }
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("ImageUri", "Image", "TrainingImage"):
                    uri = value
                    if isinstance(value, dict) and "Get" in value:
                        uri = parameters.get(str(value["Get"]).removeprefix("Parameters."))
                    if isinstance(uri, str) and uri:
                        found.add(uri)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(definition)
    return found


def images(context: Context) -> str:
    settings = context.settings
    ecr = context.client("ecr")
    deployed = _deployed(context)
    uris: set[str] = set()
    for described in deployed.values():
        uris |= _image_uris(json.loads(described.get("PipelineDefinition") or "{}"))
    for uri in sorted(uris):
        match = _ECR_IMAGE.match(uri)
        if match is None:
            raise Failure(f"image {uri!r} is not an ECR image URI", "rebuild the definition")
        if match["region"] != settings.region:
            raise Failure(
                f"image {uri} is in {match['region']}, the account's region is {settings.region}",
                "rebuild the definition for this region",
            )
        image_id = (
            {"imageDigest": match["digest"]}
            if match["digest"]
            else {"imageTag": match["tag"] or "latest"}
        )
        answer = ecr.batch_get_image(
            registryId=match["account"], repositoryName=match["repository"], imageIds=[image_id]
        )
        if not answer.get("images"):
            raise Failure(
                f"image {uri} cannot be pulled from this account", "pin an image tag that exists"
            )
    if not deployed:
        return "no pipeline deployed yet, no image to check"
    return f"{len(uris)} image(s) of {', '.join(deployed)} exist in {settings.region}"
