"""The local event router on a running local cloud: delivery, order, retries, dead letters."""

from __future__ import annotations

import contextlib
import io
import json
import threading
import time
import zipfile
from typing import Any

import pytest

from batchops.config import load_settings
from batchops.events import MODEL_QUALITY_STEP
from batchops.localcloud.server import LocalCloud

from . import events as ev
from .conftest import HANDLERS, ensure_pipeline, executions

pytestmark = [pytest.mark.localcloud]
CALLS: dict[str, list[Any]] = {"ordered": [], "flaky": [], "broken": []}
GATE = threading.Event()


def ordered(event: dict[str, Any], context: Any) -> None:
    CALLS["ordered"].append(event["detail"]["n"])


def slow(event: dict[str, Any], context: Any) -> None:
    GATE.wait(10)


def flaky(event: dict[str, Any], context: Any) -> str:
    CALLS["flaky"].append(event["id"])
    if len(CALLS["flaky"]) < 3:
        raise RuntimeError("temporary failure")
    return "ok"


def broken(event: dict[str, Any], context: Any) -> None:
    CALLS["broken"].append(event["id"])
    raise ValueError("this handler always raises")


for function in (ordered, slow, flaky, broken):
    setattr(HANDLERS, function.__name__, function)


def deploy_function(account, name: str, detail_type: str) -> None:
    """A Lambda function + rule in data-science whose handler is one of the above, with the
    permission EventBridge needs to invoke it (shared-modules/event-rules); idempotent."""
    clients = account("data-science")
    iam, lam, events = clients.client("iam"), clients.client("lambda"), clients.client("events")
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=f"test-{name}")
        return
    role = iam.create_role(RoleName=f"test-{name}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.txt", "runs in-process")
    arn = lam.create_function(
        FunctionName=f"test-{name}",
        Runtime="python3.12",
        Role=role,
        Handler=f"events_test_handlers.{name}",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    rule = events.put_rule(
        Name=f"test-{name}",
        EventPattern=f'{{"source": ["test.router"], "detail-type": ["{detail_type}"]}}',
    )["RuleArn"]
    events.put_targets(Rule=f"test-{name}", Targets=[{"Id": "fn", "Arn": arn}])
    lam.add_permission(
        FunctionName=arn,
        StatementId="events",
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule,
    )


def test_events(detail_type: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "version": "0",
            "id": f"{detail_type}-{i}",
            "source": "test.router",
            "detail-type": detail_type,
            "account": ev.DS,
            "region": ev.REGION,
            "time": "2026-01-05T10:00:00Z",
            "resources": [],
            "detail": {"n": i},
        }
        for i in range(count)
    ]


test_events.__test__ = False  # type: ignore[attr-defined]


def test_router_delivers_asynchronously_and_in_order_per_source(cloud: LocalCloud, account) -> None:
    deploy_function(account, "slow", "slow")
    deploy_function(account, "ordered", "ordered")
    started = time.monotonic()
    cloud.bus.emit(test_events("slow", 1)[0])
    assert time.monotonic() - started < 1.0  # the producer does not wait for the target
    for event in test_events("ordered", 50):
        cloud.bus.emit(event)
    GATE.set()
    assert cloud.router.wait_idle(30)
    assert CALLS["ordered"] == list(range(50))


def test_router_retries_a_failing_target_until_it_succeeds(cloud: LocalCloud, account) -> None:
    deploy_function(account, "flaky", "flaky")
    cloud.bus.emit(test_events("flaky", 1)[0])
    assert cloud.router.wait_idle(30)
    assert len(CALLS["flaky"]) == 3
    assert not [d for d in cloud.router.dead_letters() if d["rule"] == "test-flaky"]


def test_router_records_a_handler_that_always_raises_as_a_dead_letter(
    cloud: LocalCloud, account
) -> None:
    deploy_function(account, "broken", "broken")
    [event] = test_events("broken", 1)
    cloud.bus.emit(event)
    assert cloud.router.wait_idle(30)
    assert len(CALLS["broken"]) == 3  # Lambda's asynchronous invocation: 1 + 2 retries
    [dead] = [d for d in cloud.router.dead_letters() if d["rule"] == "test-broken"]
    assert dead["error"] == "ValueError: this handler always raises"
    assert dead["event"]["id"] == event["id"]
    assert (dead["attempts"], dead["kind"]) == (3, "lambda-async")
    assert dead["exhausted"] == "MaximumRetryAttempts"
    assert dead["status"] == "dropped"  # no DeadLetterConfig: AWS would drop it
    saved = json.loads((cloud.state_dir / "dead-letters.json").read_text())
    assert [d["id"] for d in saved if d["rule"] == "test-broken"] == [dead["id"]]


def test_a_function_failing_every_retry_lands_in_its_dead_letter_queue_and_alarms(
    cloud: LocalCloud, account
) -> None:
    """As Lambda does: after its retries, the event goes to the function's DeadLetterConfig
    queue with Lambda's attributes; the queue's alarm notifies the topic."""
    CALLS["broken"].clear()
    clients = account("data-science")
    sqs, lam, cloudwatch = (
        clients.client("sqs"),
        clients.client("lambda"),
        clients.client("cloudwatch"),
    )
    url = sqs.create_queue(QueueName="test-broken-dlq")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    lam.update_function_configuration(
        FunctionName="test-broken", DeadLetterConfig={"TargetArn": queue["QueueArn"]}
    )
    assert lam.get_function_configuration(FunctionName="test-broken")["DeadLetterConfig"] == {
        "TargetArn": queue["QueueArn"]
    }
    lam.put_function_event_invoke_config(FunctionName="test-broken", MaximumRetryAttempts=1)
    topic = "arn:aws:sns:us-east-1:111111111111:batchops-data-science-notifications"
    cloudwatch.put_metric_alarm(
        AlarmName="test-broken-dlq-not-empty",
        Namespace="AWS/SQS",
        MetricName="ApproximateNumberOfMessagesVisible",
        Dimensions=[{"Name": "QueueName", "Value": "test-broken-dlq"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
    )
    before = len(cloud.outbox.read())
    [event] = test_events("broken", 1)
    cloud.bus.emit(event)
    assert cloud.router.wait_idle(30)
    assert len(CALLS["broken"]) == 2  # MaximumRetryAttempts=1
    [message] = sqs.receive_message(
        QueueUrl=url, MessageAttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    assert json.loads(message["Body"])["id"] == event["id"]
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == (
        "ValueError: this handler always raises"
    )
    alarms = [
        m for m in cloud.outbox.read()[before:] if "test-broken-dlq-not-empty" in m["subject"]
    ]
    assert len(alarms) == 1 and json.loads(alarms[0]["message"])["NewStateValue"] == "ALARM"
    lam.update_function_configuration(FunctionName="test-broken", DeadLetterConfig={})
    lam.delete_function_event_invoke_config(FunctionName="test-broken")


def test_a_functions_dead_letter_is_sent_with_its_execution_role_and_the_queue_key(
    cloud: LocalCloud, account
) -> None:
    """Under enforcement, Lambda sends a dead letter as the function's execution role: the
    role needs sqs:SendMessage on the queue and, for an SSE-KMS queue, the key's
    kms:GenerateDataKey and kms:Decrypt through SQS. Refused, the event is not in the queue
    (on AWS it is lost: DeadLetterErrors) and the router's record names the refusal."""
    from batchops.localcloud.credentials import admin_clients

    deploy_function(account, "broken", "broken")
    admin = admin_clients(load_settings("data-science"), cloud.endpoint)
    sqs, lam, iam = admin.client("sqs"), admin.client("lambda"), admin.client("iam")
    key = admin.client("kms").create_key()["KeyMetadata"]["Arn"]  # IAM policies decide
    url = sqs.create_queue(QueueName="test-kms-dlq", Attributes={"KmsMasterKeyId": key})["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    lam.update_function_configuration(
        FunctionName="test-broken", DeadLetterConfig={"TargetArn": queue}
    )
    lam.put_function_event_invoke_config(FunctionName="test-broken", MaximumRetryAttempts=0)

    def fail_once() -> dict[str, Any]:
        [event] = test_events("broken", 1)
        event["id"] = f"kms-dlq-{time.monotonic_ns()}"
        cloud.bus.emit(event)
        assert cloud.router.wait_idle(30)
        [dead] = [d for d in cloud.router.dead_letters() if d["event"]["id"] == event["id"]]
        return dead

    def grant(*statements: dict[str, Any]) -> None:
        iam.put_role_policy(
            RoleName="test-broken",
            PolicyName="dead-letters",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )

    send = {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue}
    via_sqs = {"StringEquals": {"kms:ViaService": "sqs.us-east-1.amazonaws.com"}}
    use_key = {
        "Effect": "Allow",
        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
        "Resource": key,
        "Condition": via_sqs,
    }
    cloud.options["authorization"] = "enforce"
    try:
        refused = fail_once()  # the role has no policy at all
        assert "AccessDenied" in refused["queue_error"]
        assert "sqs:SendMessage" in refused["queue_error"]
        grant(send)
        refused = fail_once()
        assert "KMS.AccessDeniedException" in refused["queue_error"]
        assert "kms:GenerateDataKey" in refused["queue_error"]
        grant(send, use_key)
        sent = fail_once()
        assert sent["message_id"] and "queue_error" not in sent
    finally:
        cloud.options["authorization"] = "off"
        lam.update_function_configuration(FunctionName="test-broken", DeadLetterConfig={})
        lam.delete_function_event_invoke_config(FunctionName="test-broken")
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert json.loads(message["Body"])["id"] == sent["event"]["id"]


def test_a_target_that_does_not_exist_goes_to_the_rules_dead_letter_queue_without_retries(
    cloud: LocalCloud, account
) -> None:
    """EventBridge does not retry what a retry cannot fix (a missing target)."""
    clients = account("data-science")
    sqs, events = clients.client("sqs"), clients.client("events")
    url = sqs.create_queue(QueueName="test-rule-dlq")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    events.put_rule(Name="test-missing", EventPattern='{"source": ["test.missing"]}')
    events.put_targets(
        Rule="test-missing",
        Targets=[
            {
                "Id": "gone",
                "Arn": "arn:aws:lambda:us-east-1:111111111111:function:no-such-function",
                "RetryPolicy": {"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 600},
                "DeadLetterConfig": {"Arn": queue["QueueArn"]},
            }
        ],
    )
    event = {**test_events("x", 1)[0], "source": "test.missing", "id": "missing-1"}
    cloud.bus.emit(event)
    assert cloud.router.wait_idle(30)
    [dead] = [d for d in cloud.router.dead_letters() if d["rule"] == "test-missing"]
    assert (dead["attempts"], dead["exhausted"], dead["status"]) == (1, "NonRetryable", "dead")
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["TARGET_ARN"].endswith(":function:no-such-function")
    assert attributes["RULE_ARN"].endswith(":rule/test-missing")
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "NonRetryable"


def test_eventbridge_needs_the_functions_permission_and_the_dead_letter_queues_policy(
    cloud: LocalCloud, account
) -> None:
    """Under enforcement EventBridge acts as ``events.amazonaws.com`` for the rule: without
    the function's permission (AddPermission naming the rule) it does not retry and the event
    goes to the dead-letter queue with NO_PERMISSIONS; that queue's policy must let it send
    (``aws:SourceArn`` the rule) and, for an SSE-KMS queue, the key policy must let it use
    the key — refused, the event is not in the queue (InvocationsFailedToBeSentToDlq on AWS)
    and the router's record names the refusal."""
    from batchops.localcloud.credentials import admin_clients

    deploy_function(account, "broken", "broken")
    clients = admin_clients(load_settings("data-science"), cloud.endpoint)  # changes policies
    sqs, lam, events = clients.client("sqs"), clients.client("lambda"), clients.client("events")
    function = lam.get_function(FunctionName="test-broken")["Configuration"]["FunctionArn"]
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ev.DS}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = clients.client("kms").create_key(Policy=json.dumps(key_policy))["KeyMetadata"]
    url = sqs.create_queue(QueueName="test-events-dlq", Attributes={"KmsMasterKeyId": key["Arn"]})[
        "QueueUrl"
    ]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = events.put_rule(
        Name="test-unpermitted", EventPattern='{"source": ["test.unpermitted"]}'
    )["RuleArn"]
    events.put_targets(
        Rule="test-unpermitted",
        Targets=[{"Id": "fn", "Arn": function, "DeadLetterConfig": {"Arn": queue}}],
    )

    def deliver_once(n: int) -> dict[str, Any]:
        event = {**test_events("x", 1)[0], "source": "test.unpermitted", "id": f"unpermitted-{n}"}
        cloud.bus.emit(event)
        assert cloud.router.wait_idle(30)
        [dead] = [d for d in cloud.router.dead_letters() if d["event"]["id"] == event["id"]]
        return dead

    cloud.options["authorization"] = "enforce"
    try:
        # the function's permission names test-broken's rule, not this one
        dead = deliver_once(1)
        assert (dead["attempts"], dead["exhausted"], dead["error_code"]) == (
            1,
            "NonRetryable",
            "NO_PERMISSIONS",
        )
        assert (
            "events.amazonaws.com is not authorized to perform: lambda:InvokeFunction"
            in (dead["error"])
        )
        # no queue policy: EventBridge may not send the dead letter
        assert "sqs:SendMessage" in dead["queue_error"] and dead["message_id"] is None
        allow_rule = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "events.amazonaws.com"},
                    "Action": "sqs:SendMessage",
                    "Resource": queue,
                    "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
                }
            ],
        }
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(allow_rule)})
        dead = deliver_once(2)  # the key policy does not name the service
        assert "kms:GenerateDataKey" in dead["queue_error"]
        key_policy["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": ev.DS}},
            }
        )
        clients.client("kms").put_key_policy(
            KeyId=key["KeyId"], PolicyName="default", Policy=json.dumps(key_policy)
        )
        sent = deliver_once(3)
        assert sent["message_id"] and "queue_error" not in sent
    finally:
        cloud.options["authorization"] = "off"
    [message] = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "NO_PERMISSIONS"


def test_every_step_status_change_becomes_a_notification(cloud: LocalCloud) -> None:
    before = len(cloud.outbox.read())
    cloud.bus.emit(
        ev.step("RegisterModel", "Succeeded", account=ev.DS, pipeline="batchops-training")
    )
    cloud.bus.emit(ev.step("Train", "Executing", account=ev.DS, pipeline="batchops-training"))
    cloud.bus.emit(ev.step("Train", "Failed", account=ev.DS, pipeline="unrelated-pipeline"))
    assert cloud.router.wait_idle(30)
    new = cloud.outbox.read()[before:]
    assert [m["message"].splitlines()[0] for m in new] == [
        "A new model version was registered and waits for your review in the model registry.",
        "Step Train of pipeline batchops-training is Executing.",
    ]
    assert all(m["recipients"] == ["data-science-team@example.com"] for m in new)


def test_s3_put_under_the_inference_prefix_starts_the_inference_pipeline(cloud, account) -> None:
    staging = account("staging")
    approved = (
        account("data-science")
        .client("sagemaker")
        .create_model_package(
            ModelPackageGroupName="batchops-abalone",
            ModelApprovalStatus="Approved",
            InferenceSpecification={
                "Containers": [{"Image": "xgboost"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )
    ensure_pipeline(staging, "batchops-inference", "staging", pinned=approved)
    settings = load_settings("staging")
    s3 = staging.client("s3")
    key = f"{settings.inference_data_prefix}2026-01-05/inference-data.csv"
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=b"M,0.5,0.4,0.1,0.5,0.2,0.1,0.1\n")
    s3.put_object(Bucket=settings.bucket_name, Key="unrelated/inference-data.csv", Body=b"x\n")
    assert cloud.router.wait_idle(30)
    runs = executions(staging, "batchops-inference")
    assert len(runs) == 1
    parameters = staging.client("sagemaker").list_pipeline_parameters_for_execution(
        PipelineExecutionArn=runs[0]["PipelineExecutionArn"]
    )["PipelineParameters"]
    assert {"Name": "InputKey", "Value": key} in parameters
    assert {"Name": "InputBucket", "Value": settings.bucket_name} in parameters


def test_model_quality_failure_in_production_starts_one_hpo_run_in_data_science(
    cloud, account
) -> None:
    data_science = account("data-science")
    ensure_pipeline(data_science, "batchops-training-hpo", "data-science")
    before = len(cloud.outbox.read())
    cloud.bus.emit(ev.step(MODEL_QUALITY_STEP, "Failed", account=ev.PRODUCTION))
    assert cloud.router.wait_idle(30)
    cloud.bus.emit(ev.step(MODEL_QUALITY_STEP, "Failed", account=ev.STAGING))
    assert cloud.router.wait_idle(30)
    assert len(executions(data_science, "batchops-training-hpo")) == 1
    subjects = [m["subject"] for m in cloud.outbox.read()[before:]]
    assert "[batchops] retraining of batchops-training-hpo started" in subjects
    assert "[batchops] retraining of batchops-training-hpo not started" in subjects
