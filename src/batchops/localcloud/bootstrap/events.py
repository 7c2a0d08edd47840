"""The event wiring of each account, as the Terraform roots create it on AWS.

* Lambda functions (configuration and the zips ``python -m batchops.build`` makes, each
  with its own role and dead-letter queue): ``batchops-notify`` and
  ``batchops-pipeline-trigger`` (new data -> one run per object version) everywhere,
  ``batchops-approval-trigger`` and ``batchops-retrain-trigger`` in data-science;
* EventBridge rules ``batchops-<pattern file>`` with patterns from
  ``src/batchops/events/*.json`` and descriptions, targets (id, ARN, role, input transformer),
  RetryPolicy and dead-letter queue from ``src/batchops/events/rules.json``: the same files
  Terraform reads;
* the rules' dead-letter queue ``batchops-<env>-events-dlq``; every queue has an alarm to the
  account's notification topic;
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
from batchops.events import load_pattern, pattern_values, rule_declarations
from batchops.kms import key_arn

RUNTIME = LAMBDA_RUNTIME  # what the zips are built for (batchops.build)
RETRAIN_COOLDOWN_MINUTES = 60
#: pattern file -> environments that deploy its rule (rules.json)
RULE_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    stem: tuple(rule["environments"]) for stem, rule in rule_declarations()["rules"].items()
}
#: function name -> (zip name, handler)
FUNCTIONS: dict[str, tuple[str, str]] = {
    "batchops-notify": ("notify", "batchops.functions.notify.handler"),
    "batchops-approval-trigger": (
        "approval_trigger",
        "batchops.functions.approval_trigger.handler",
    ),
    "batchops-retrain-trigger": ("retrain_trigger", "batchops.functions.retrain_trigger.handler"),
    "batchops-pipeline-trigger": (
        "pipeline_trigger",
        "batchops.functions.pipeline_trigger.handler",
    ),
    "batchops-promotion-evidence": (
        "promotion_evidence",
        "batchops.functions.promotion_evidence.handler",
    ),
}
#: function name -> environments that deploy it
FUNCTION_ENVIRONMENTS: dict[str, tuple[str, ...]] = {
    "batchops-notify": ("data-science", "staging", "production"),
    # new data -> one run per object version (training in data-science, inference elsewhere)
    "batchops-pipeline-trigger": ("data-science", "staging", "production"),
    "batchops-approval-trigger": ("data-science",),
    "batchops-retrain-trigger": ("data-science",),
    "batchops-promotion-evidence": ("staging",),
}


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
            "BATCHOPS_GITLAB_READ_SECRET_ID": settings.gitlab_read_token_secret_name,
            "BATCHOPS_IDEMPOTENCY_TABLE": idempotency_table(settings),
            "BATCHOPS_MODEL_PACKAGE_GROUP_NAME": settings.model_package_group_name,
            "BATCHOPS_TOPIC_ARN": topic_arn(settings),
        }
    if function == "batchops-pipeline-trigger":
        training = settings.environment == "data-science"
        return {
            "BATCHOPS_PIPELINE_NAME": settings.pipeline_train
            if training
            else settings.pipeline_inf,
            "BATCHOPS_REQUIRE_APPROVED_MODEL": "false" if training else "true",
            "BATCHOPS_IDEMPOTENCY_TABLE": idempotency_table(settings),
            "BATCHOPS_TOPIC_ARN": topic_arn(settings),
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


def role_arn(settings: Settings, name: str) -> str:
    """A role the account's bootstrap created from Terraform's documents (resources.py)."""
    return f"arn:aws:iam::{settings.account_id}:role/{name}"


def dead_letter_queue(clients: Clients, settings: Settings, name: str) -> str:
    """An SQS dead-letter queue with an alarm to the notification topic when it is not empty.

    As ``shared-modules/lambda-function`` (``<function>-dlq``) and ``shared-modules/event-rules``
    (``batchops-<env>-events-dlq``) declare them: KMS-encrypted, 14 days' retention.
    """
    sqs, cloudwatch = clients.client("sqs"), clients.client("cloudwatch")
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"KmsMasterKeyId": settings.kms_key, "MessageRetentionPeriod": "1209600"},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    cloudwatch.put_metric_alarm(
        AlarmName=f"{name}-not-empty",
        AlarmDescription=f"Events failed every delivery attempt and wait in {name}: see "
        "`batchops events dead-letters`, fix the cause, then `batchops events redrive`.",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": name}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        AlarmActions=[topic_arn(settings)],
        OKActions=[topic_arn(settings)],
    )
    return str(arn)


def _dead_letters_policy(clients: Clients, name: str, arn: str, rule_arns: list[str]) -> None:
    """shared-modules/event-rules' queue policy: EventBridge sends the rules' undelivered
    events (``events.amazonaws.com``, ``aws:SourceArn`` one of the rules)."""
    sqs = clients.client("sqs")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EventBridgeSendsUndeliveredEvents",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(rule_arns)}},
            }
        ],
    }
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})


def ensure_function(clients: Clients, settings: Settings, name: str, gitlab_url: str | None) -> str:
    zip_name, handler = FUNCTIONS[name]
    lam = clients.client("lambda")
    role = role_arn(settings, name)  # shared-modules/lambda-function: the function's name
    variables = function_environment(settings, name, gitlab_url)
    dead_letters = {"TargetArn": dead_letter_queue(clients, settings, f"{name}-dlq")}
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
            # shared-modules/lambda-function: the environment under the account's key (Lambda
            # creates a grant on it for the execution role)
            KMSKeyArn=key_arn(clients, settings),  # Lambda's CreateGrant takes no alias
            Description=f"batchops {zip_name} ({settings.environment})",
            DeadLetterConfig=dead_letters,
        )
        return str(created["FunctionArn"])
    updated = lam.update_function_configuration(
        FunctionName=name,
        Role=role,
        Handler=handler,
        Runtime=RUNTIME,
        Environment={"Variables": variables},
        KMSKeyArn=key_arn(clients, settings),
        DeadLetterConfig=dead_letters,
    )
    return str(updated["FunctionArn"])


def retry_policy() -> dict[str, int]:
    """Every target's RetryPolicy (rules.json), as EventBridge's API spells it."""
    declared = rule_declarations()["retry_policy"]
    return {
        "MaximumRetryAttempts": int(declared["maximum_retry_attempts"]),
        "MaximumEventAgeInSeconds": int(declared["maximum_event_age_in_seconds"]),
    }


def _target(
    declared: dict[str, Any],
    arns: dict[str, str],
    events_role: str,
    registry: Settings,
    *,
    dead_letters: dict[str, str],
) -> dict[str, Any]:
    """The one target rules.json declares for a rule, as shared-modules/event-rules puts it."""
    target: dict[str, Any] = {"Id": declared["id"]}
    if declared["kind"] == "lambda":
        target["Arn"] = arns[declared["function"]]
    elif declared["kind"] == "bus" and declared["bus"] == "registry-default":
        # EventBridge needs a role to put events on another account's bus
        target["Arn"] = f"arn:aws:events:{registry.region}:{registry.account_id}:event-bus/default"
        target["RoleArn"] = events_role
    else:
        raise ValueError(f"rules.json: unknown target {declared}")
    transformer = declared.get("input_transformer")
    if transformer:
        target["InputTransformer"] = {
            "InputPathsMap": dict(transformer.get("input_paths", {})),
            "InputTemplate": transformer["input_template"],
        }
    target["RetryPolicy"] = retry_policy()
    target["DeadLetterConfig"] = dead_letters
    return target


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
    # shared-modules/event-rules: the role EventBridge forwards to other buses with
    events_role = role_arn(settings, f"batchops-{env}-events-targets")
    events, lam = clients.client("events"), clients.client("lambda")
    values = pattern_values(settings)
    dead_letters = {"Arn": dead_letter_queue(clients, settings, f"batchops-{env}-events-dlq")}
    rule_arns: list[str] = []
    for stem, declared in rule_declarations()["rules"].items():
        if env not in declared["environments"]:
            continue
        rule = f"batchops-{stem}"
        rule_arn = events.put_rule(
            Name=rule,
            EventPattern=json.dumps(load_pattern(stem, values)),
            State="ENABLED",
            Description=declared["description"],
        )["RuleArn"]
        rule_arns.append(rule_arn)
        target = _target(declared["target"], arns, events_role, registry, dead_letters=dead_letters)
        targets = [target]
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
    _dead_letters_policy(clients, f"batchops-{env}-events-dlq", dead_letters["Arn"], rule_arns)
    for account in readers or []:
        events.put_permission(
            EventBusName="default",
            Action="events:PutEvents",
            Principal=account,
            StatementId=f"batchops-forward-{account}",
        )
