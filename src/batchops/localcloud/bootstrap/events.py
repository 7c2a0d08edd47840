"""The event wiring of each account, as the Terraform roots create it on AWS.

* Lambda functions (configuration and the zips ``python -m batchops.build`` makes, each
  with its own role): ``batchops-notify`` everywhere, ``batchops-approval-trigger`` and
  ``batchops-retrain-trigger`` in data-science;
* EventBridge rules ``batchops-<pattern file>`` with patterns from
  ``src/batchops/events/*.json`` (the same files Terraform reads) and their targets;
* in data-science, a bus policy letting staging and production forward events to it.

The local router delivers to these targets; it runs the handlers in-process (Lambda's
Invoke in moto needs Docker). Everything is idempotent: a second run updates in place.
"""

from __future__ import annotations

import contextlib
import functools
import json
from typing import Any

from batchops.aws import Clients
from batchops.build import LAMBDA_RUNTIME
from batchops.config import Settings
from batchops.events import load_pattern, pattern_values

RUNTIME = LAMBDA_RUNTIME  # what the zips are built for (batchops.build)
RETRAIN_COOLDOWN_MINUTES = 60
#: pattern file -> environments that deploy its rule
RULE_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "approval-to-deploy": ("data-science",),
    "pipeline-status-to-notify": ("data-science", "staging", "production"),
    "model-quality-failed-to-retrain": ("data-science",),
    "model-quality-failed-to-data-science-bus": ("staging", "production"),
    "training-data-to-training-pipeline": ("data-science",),
    "inference-data-to-inference-pipeline": ("staging", "production"),
    "inference-run-to-promotion-evidence": ("staging",),
}
#: function name -> (zip name, handler)
FUNCTIONS: dict[str, tuple[str, str]] = {
    "batchops-notify": ("notify", "batchops.functions.notify.handler"),
    "batchops-approval-trigger": (
        "approval_trigger",
        "batchops.functions.approval_trigger.handler",
    ),
    "batchops-retrain-trigger": ("retrain_trigger", "batchops.functions.retrain_trigger.handler"),
    "batchops-promotion-evidence": (
        "promotion_evidence",
        "batchops.functions.promotion_evidence.handler",
    ),
}
#: function name -> environments that deploy it
FUNCTION_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "batchops-notify": ("data-science", "staging", "production"),
    "batchops-approval-trigger": ("data-science",),
    "batchops-retrain-trigger": ("data-science",),
    "batchops-promotion-evidence": ("staging",),
}


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


@functools.cache
def function_zip(name: str) -> bytes:
    from batchops.build import FUNCTIONS as BUILDS
    from batchops.build import build_function

    return build_function(next(f for f in BUILDS if f.name == name))


def topic_arn(settings: Settings) -> str:
    name = f"batchops-{settings.environment}-notifications"
    return f"arn:aws:sns:{settings.region}:{settings.account_id}:{name}"


def idempotency_table(settings: Settings) -> str:
    return f"batchops-{settings.environment}-idempotency"


def function_environment(
    settings: Settings, function: str, gitlab_url: str | None
) -> dict[str, str]:
    """The Lambda environment variables of the naming contract."""
    if function == "batchops-notify":
        return {
            "BATCHOPS_TOPIC_ARN": topic_arn(settings),
            "BATCHOPS_NOTIFICATION_CONFIG": json.dumps(
                [rule.model_dump() for rule in settings.custom_notification_config]
            ),
            "BATCHOPS_ENVIRONMENT": settings.environment,
            "BATCHOPS_IDEMPOTENCY_TABLE": idempotency_table(settings),
        }
    if function == "batchops-approval-trigger":
        return {
            "BATCHOPS_GITLAB_URL": gitlab_url or settings.gitlab_url,
            "BATCHOPS_GITLAB_PROJECT": settings.gitlab_project,
            "BATCHOPS_GITLAB_REF": "main",
            "BATCHOPS_TRIGGER_SECRET_ID": settings.gitlab_trigger_secret_name,
            "BATCHOPS_IDEMPOTENCY_TABLE": idempotency_table(settings),
            "BATCHOPS_MODEL_PACKAGE_GROUP_NAME": settings.model_package_group_name,
        }
    if function == "batchops-promotion-evidence":
        return {
            "BATCHOPS_MODEL_PACKAGE_GROUP_ARN": (
                f"arn:aws:sagemaker:{settings.region}:{settings.registry_account_id}:"
                f"model-package-group/{settings.model_package_group_name}"
            ),
        }
    return {
        "BATCHOPS_RETRAIN_PIPELINE_NAME": settings.pipeline_trainwhpo,
        "BATCHOPS_RETRAIN_COOLDOWN_MINUTES": str(RETRAIN_COOLDOWN_MINUTES),
        "BATCHOPS_IDEMPOTENCY_TABLE": idempotency_table(settings),
        "BATCHOPS_TOPIC_ARN": topic_arn(settings),
    }


def _ensure_role(iam: Any, name: str, service: str) -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust(service))["Role"]["Arn"]
        )


def ensure_function(clients: Clients, settings: Settings, name: str, gitlab_url: str | None) -> str:
    zip_name, handler = FUNCTIONS[name]
    iam, lam = clients.client("iam"), clients.client("lambda")
    role = _ensure_role(iam, f"{name}-{settings.environment}", "lambda.amazonaws.com")
    variables = function_environment(settings, name, gitlab_url)
    try:
        lam.get_function_configuration(FunctionName=name)
    except lam.exceptions.ResourceNotFoundException:
        created = lam.create_function(
            FunctionName=name,
            Runtime=RUNTIME,
            Role=role,
            Handler=handler,
            Code={"ZipFile": function_zip(zip_name)},
            Timeout=60,
            MemorySize=256,
            Environment={"Variables": variables},
            Description=f"batchops {zip_name} ({settings.environment})",
        )
        return str(created["FunctionArn"])
    updated = lam.update_function_configuration(
        FunctionName=name,
        Role=role,
        Handler=handler,
        Runtime=RUNTIME,
        Environment={"Variables": variables},
    )
    return str(updated["FunctionArn"])


def _targets(
    stem: str, settings: Settings, arns: dict[str, str], events_role: str, registry: Settings
) -> list[dict[str, Any]]:
    retry = {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    lambda_target = {
        "approval-to-deploy": "batchops-approval-trigger",
        "pipeline-status-to-notify": "batchops-notify",
        "model-quality-failed-to-retrain": "batchops-retrain-trigger",
        "inference-run-to-promotion-evidence": "batchops-promotion-evidence",
    }.get(stem)
    if lambda_target:
        return [{"Id": "lambda", "Arn": arns[lambda_target], "RetryPolicy": retry}]
    if stem == "model-quality-failed-to-data-science-bus":
        bus = f"arn:aws:events:{registry.region}:{registry.account_id}:event-bus/default"
        return [{"Id": "data-science-bus", "Arn": bus, "RoleArn": events_role}]
    training = stem.startswith("training")
    return [
        {
            "Id": "pipeline",
            "Arn": pattern_values(settings)[
                "pipeline_train_arn" if training else "pipeline_inf_arn"
            ],
            "RoleArn": events_role,
            "RetryPolicy": retry,
            "SageMakerPipelineParameters": {
                "PipelineParameterList": [
                    {"Name": "InputBucket", "Value": "$.detail.bucket.name"},
                    {"Name": "InputKey", "Value": "$.detail.object.key"},
                ]
            },
        }
    ]


def bootstrap_events(
    settings: Settings,
    clients: Clients,
    registry: Settings,
    *,
    gitlab_url: str | None = None,
    readers: list[str] | None = None,
) -> None:
    env = settings.environment
    functions = [n for n in FUNCTIONS if env in FUNCTION_ENVIRONMENTS[n]]
    arns = {name: ensure_function(clients, settings, name, gitlab_url) for name in functions}
    events_role = _ensure_role(
        clients.client("iam"), f"batchops-{env}-eventbridge", "events.amazonaws.com"
    )
    events, lam = clients.client("events"), clients.client("lambda")
    values = pattern_values(settings)
    for stem, environments in RULE_ENVIRONMENTS.items():
        if env not in environments:
            continue
        rule = f"batchops-{stem}"
        rule_arn = events.put_rule(
            Name=rule,
            EventPattern=json.dumps(load_pattern(stem, values)),
            State="ENABLED",
            Description=f"batchops: {stem.replace('-', ' ')}",
        )["RuleArn"]
        targets = _targets(stem, settings, arns, events_role, registry)
        events.put_targets(Rule=rule, Targets=targets)
        for target in targets:
            if ":lambda:" in target["Arn"]:
                with contextlib.suppress(lam.exceptions.ResourceConflictException):
                    lam.add_permission(
                        FunctionName=target["Arn"],
                        StatementId=f"events-{rule}",
                        Action="lambda:InvokeFunction",
                        Principal="events.amazonaws.com",
                        SourceArn=rule_arn,
                    )
    for account in readers or []:
        events.put_permission(
            EventBusName="default",
            Action="events:PutEvents",
            Principal=account,
            StatementId=f"batchops-forward-{account}",
        )
