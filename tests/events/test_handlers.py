"""Handler unit tests: moto (the local cloud server) for AWS, the stand-in as fake GitLab."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from batchops.config import STEP_STATUSES
from batchops.functions import _runtime, approval_trigger, notify, retrain_trigger
from batchops.functions._runtime import ConfigurationError, HandlerError, MalformedEventError
from batchops.localcloud.gitlab.standin import GitLabStandIn

from . import events as ev

TOKEN = "glptt-test-token-value"
TABLE = "batchops-data-science-idempotency"
SECRET = "batchops/gitlab-trigger-token"
READ_TOKEN = "glpat-read-only-test-token"
READ_SECRET = "batchops/gitlab-read-token"


@pytest.fixture()
def aws(cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh account of the local cloud's moto server per test (nothing leaks between tests).

    ``mock_aws`` cannot be used here: it resets moto's backends, which the session's local
    cloud shares in this process.
    """
    account_id = f"9{random.randrange(10**10, 10**11):011d}"
    sts = boto3.client(
        "sts",
        endpoint_url=cloud.endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/test", RoleSessionName="handler-test"
    )["Credentials"]
    for key, value in {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "AWS_ENDPOINT_URL": cloud.endpoint,
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    boto3.setup_default_session()  # the default session caches the previous test's credentials
    _runtime._clients.clear()
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sns = boto3.client("sns")
    topic = sns.create_topic(Name="batchops-data-science-notifications")["TopicArn"]
    queue = boto3.client("sqs").create_queue(QueueName="mail")["QueueUrl"]
    queue_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "false"},
    )
    yield {"topic": topic, "queue": queue}
    _runtime._clients.clear()


def published(aws: dict[str, Any]) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = sqs.receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in found]


# ----- notify ----------------------------------------------------------------------------
RULES = [
    {
        "step_name": "RegisterModel",
        "step_status": "Succeeded",
        "step_custom_message": "A new model version waits for your review.",
    }
]


@pytest.fixture()
def notify_env(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("BATCHOPS_TOPIC_ARN", aws["topic"])
    monkeypatch.setenv("BATCHOPS_ENVIRONMENT", "data-science")
    # the key the handler reads (the article's sample read one its config did not have)
    monkeypatch.setenv("BATCHOPS_NOTIFICATION_CONFIG", json.dumps(RULES))
    monkeypatch.setenv("BATCHOPS_IDEMPOTENCY_TABLE", TABLE)
    return aws


def test_notify_uses_the_custom_message_for_a_configured_step_and_status(notify_env) -> None:
    result = notify.handler(
        ev.step("RegisterModel", "Succeeded", account=ev.DS, pipeline="batchops-training")
    )
    assert result["status"] == "published"
    [message] = published(notify_env)
    assert (
        message["Subject"] == "[batchops data-science] batchops-training RegisterModel: Succeeded"
    )
    assert message["Message"].startswith("A new model version waits for your review.")
    assert "pipeline: batchops-training" in message["Message"]


def test_notify_uses_a_default_line_for_steps_not_in_the_config(notify_env) -> None:
    notify.handler(
        ev.step(
            "Train",
            "Failed",
            account=ev.DS,
            pipeline="batchops-training",
            reason="AlgorithmError: out of memory",
        )
    )
    [message] = published(notify_env)
    assert message["Message"].startswith("Step Train of pipeline batchops-training is Failed.")
    assert "reason: AlgorithmError: out of memory" in message["Message"]


def test_notify_warns_when_the_data_quality_check_found_violations(notify_env) -> None:
    event = ev.step("CheckDataQuality", "Succeeded")
    report = "s3://batchops-production-333333333333/p/inference/runs/x/data-quality/v.json"
    event["detail"]["metadata"] = {"qualityCheck": {"violationReport": report}}
    notify.handler(event)
    [message] = published(notify_env)
    assert "WARNING" in message["Subject"] and "violations" in message["Subject"]
    assert message["Message"].startswith("WARNING: the data-quality check found violations")
    assert report in message["Message"]


SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def _data_quality_job(violations: list[dict[str, str]] | None, *, output: str) -> str:
    """A finished processing job as SageMaker records it (DescribeProcessingJob answers),
    with ``constraint_violations.json`` in its output when ``violations`` is not None."""
    name = f"pipelines-x1-checkdataquality-{random.randrange(10**6):06d}"
    bucket = f"dq-{random.randrange(10**8):08d}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    folder = f"s3://{bucket}/inference/runs/x1/data-quality"
    if violations is not None:
        boto3.client("s3").put_object(
            Bucket=bucket,
            Key="inference/runs/x1/data-quality/constraint_violations.json",
            Body=json.dumps({"violations": violations}).encode(),
        )
    return boto3.client("sagemaker").create_processing_job(
        ProcessingJobName=name,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/job.pyz"],
            "ContainerArguments": ["--mode", "check", "--baseline-statistics", "s3://ds/st.json"],
        },
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": output,
                    "S3Output": {
                        "S3Uri": folder,
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        ProcessingResources={
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.xlarge",
                "VolumeSizeInGB": 30,
            }
        },
        RoleArn="arn:aws:iam::333333333333:role/batchops-production-sagemaker-execution",
    )["ProcessingJobArn"]


def _processing_event(job_arn: str, status: str = "Succeeded") -> dict[str, Any]:
    event = ev.step("CheckDataQuality", status)
    event["detail"]["metadata"] = {"processingJob": {"arn": job_arn}}
    return event


def test_notify_warns_when_the_processing_data_quality_check_found_violations(
    notify_env,
) -> None:
    """The batchops engine's step succeeds with violations: the handler finds its report."""
    drift = {
        "feature_name": "_c3",
        "constraint_check_type": "baseline_drift_check",
        "description": "d",
    }
    notify.handler(_processing_event(_data_quality_job([drift], output="quality_check_output")))
    [message] = published(notify_env)
    assert "WARNING" in message["Subject"] and "violations" in message["Subject"]
    assert message["Message"].startswith("WARNING: the data-quality check found violations")
    assert "/data-quality/constraint_violations.json" in message["Message"]


@pytest.mark.parametrize(
    ("violations", "output"),
    [([], "quality_check_output"), (None, "evaluation")],
    ids=["clean batch", "not a data-quality step"],
)
def test_notify_does_not_warn_for_a_clean_check_or_another_processing_step(
    notify_env, violations: list[dict[str, str]] | None, output: str
) -> None:
    notify.handler(_processing_event(_data_quality_job(violations, output=output)))
    [message] = published(notify_env)
    assert "WARNING" not in message["Subject"] and "note:" not in message["Message"]


def test_notify_says_so_when_the_report_cannot_be_read(notify_env) -> None:
    missing = "arn:aws:sagemaker:us-east-1:333333333333:processing-job/pipelines-gone-step-000"
    notify.handler(_processing_event(missing))
    [message] = published(notify_env)
    assert "note: the step's data-quality report could not be read" in message["Message"]
    assert "WARNING" not in message["Subject"]


def test_notify_reports_execution_status_changes(notify_env) -> None:
    notify.handler(ev.execution("Succeeded"))
    [message] = published(notify_env)
    assert message["Message"].startswith("Pipeline batchops-training execution is Succeeded.")


def test_notify_sends_one_message_when_the_same_event_is_delivered_twice(notify_env) -> None:
    event = ev.step("RegisterModel", "Succeeded", account=ev.DS)
    assert notify.handler(event)["status"] == "published"
    assert notify.handler(event)["status"] == "duplicate"
    assert len(published(notify_env)) == 1


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            '[{"step_name": "X", "step_status": "Done", "step_custom_message": "m"}]',
            "unknown step_status 'Done'",
        ),
        ('[{"step_name": "X", "status": "Failed", "step_custom_message": "m"}]', "expected keys"),
        ("{not json", "invalid JSON"),
        ('{"step_name": "X"}', "expected a list"),
    ],
)
def test_notify_rejects_an_invalid_notification_config(notify_env, monkeypatch, config, expected):
    monkeypatch.setenv("BATCHOPS_NOTIFICATION_CONFIG", config)
    with pytest.raises(ConfigurationError, match=expected):
        notify.handler(ev.step("Train", "Failed", account=ev.DS))
    assert published(notify_env) == []


def test_notify_rejects_unknown_step_names_when_the_pipeline_steps_are_known(
    notify_env, monkeypatch
):
    monkeypatch.setenv("BATCHOPS_KNOWN_STEPS", json.dumps(["Train", "Evaluate"]))
    with pytest.raises(ConfigurationError, match="unknown step_name 'RegisterModel'"):
        notify.handler(ev.step("Train", "Failed", account=ev.DS))


def test_notify_statuses_are_the_settings_statuses() -> None:
    assert notify.STEP_STATUSES == STEP_STATUSES


def test_notify_fails_for_redelivery_when_sns_refuses(notify_env, monkeypatch) -> None:
    monkeypatch.setenv("BATCHOPS_TOPIC_ARN", notify_env["topic"] + "-missing")
    event = ev.step("Train", "Failed", account=ev.DS)
    with pytest.raises(Exception, match="NotFound"):
        notify.handler(event)
    monkeypatch.setenv("BATCHOPS_TOPIC_ARN", notify_env["topic"])
    assert notify.handler(event)["status"] == "published"  # the claim was released


def test_notify_fails_loudly_on_a_malformed_event(notify_env) -> None:
    event = ev.step("Train", "Failed", account=ev.DS)
    del event["detail"]["stepName"]
    with pytest.raises(MalformedEventError, match=r"missing field detail\.stepName"):
        notify.handler(event)


# ----- approval_trigger ------------------------------------------------------------------
@pytest.fixture()
def gitlab() -> Iterator[GitLabStandIn]:
    server = GitLabStandIn(token=TOKEN, api_token=READ_TOKEN, run_jobs=False)
    server.faults.timeout_delay = 2.5  # past the handler's 2 s client timeout
    server.start()
    yield server
    server.stop()


@pytest.fixture()
def approval_env(aws, gitlab, monkeypatch) -> GitLabStandIn:
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(Name=SECRET, SecretString=TOKEN)
    secrets.create_secret(Name=READ_SECRET, SecretString=READ_TOKEN)
    boto3.client("sagemaker").create_model_package_group(ModelPackageGroupName="batchops-abalone")
    for key, value in {
        "BATCHOPS_GITLAB_URL": gitlab.url,
        "BATCHOPS_GITLAB_PROJECT": "ml/batchops",
        "BATCHOPS_GITLAB_REF": "main",
        "BATCHOPS_TRIGGER_SECRET_ID": SECRET,
        "BATCHOPS_GITLAB_READ_SECRET_ID": READ_SECRET,
        "BATCHOPS_IDEMPOTENCY_TABLE": TABLE,
        "BATCHOPS_MODEL_PACKAGE_GROUP_NAME": "batchops-abalone",
        "BATCHOPS_TOPIC_ARN": aws["topic"],
        "BATCHOPS_RETRY_BASE_DELAY": "0.01",
        # 2 s: a real answer of the stand-in took over 1 s on the loaded 2-core machine in
        # `make test`; the faults below answer after it (a "timeout" after 3 s)
        "BATCHOPS_GITLAB_TIMEOUT": "2",
    }.items():
        monkeypatch.setenv(key, value)
    return gitlab


def approved(
    status: str = "Approved", *, source: str = "training", review_ref: str | None = None
) -> dict[str, Any]:
    """A real version in the test account's registry and its state-change event."""
    sm = boto3.client("sagemaker")
    metadata = {"source": source, **({"review_ref": review_ref} if review_ref else {})}
    arn = sm.create_model_package(
        ModelPackageGroupName="batchops-abalone",
        ModelApprovalStatus=status,
        CustomerMetadataProperties=metadata,
        InferenceSpecification={
            "Containers": [{"Image": "xgboost"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    account = arn.split(":")[4]
    event = ev.model_package(status, version=int(arn.rsplit("/", 1)[1]), account=account)
    event["detail"]["ModelPackageArn"] = arn
    event["resources"] = [arn]
    event["detail"]["CustomerMetadataProperties"] = metadata
    return event


def test_approval_triggers_the_deploy_pipeline_with_the_version(approval_env, caplog) -> None:
    event = approved()
    result = approval_trigger.handler(event)
    assert result["status"] == "triggered"
    [trigger] = approval_env.triggers()
    assert trigger["ref"] == "main"
    variables = trigger["variables"]
    assert variables.pop("BATCHOPS_TRIGGER_ID").startswith("approval-")
    assert variables == {
        "MODEL_PACKAGE_ARN": event["detail"]["ModelPackageArn"],
        "MODEL_PACKAGE_VERSION": str(event["detail"]["ModelPackageVersion"]),
        "MODEL_PACKAGE_GROUP_NAME": "batchops-abalone",
        "DEPLOY_ENV": "staging",
    }
    assert set(trigger["variables"]) | {"BATCHOPS_TRIGGER_ID", "REPLACES_MODEL_PACKAGE_ARN"} == set(
        approval_trigger.TRIGGER_VARIABLES
    )
    assert TOKEN not in caplog.text and READ_TOKEN not in caplog.text


def test_approval_redelivered_five_times_triggers_once(approval_env) -> None:
    event = approved()
    outcomes = [approval_trigger.handler(event)["status"] for _ in range(6)]
    assert outcomes == ["triggered"] + ["duplicate"] * 5
    assert len(approval_env.triggers()) == 1


def test_approval_of_a_version_of_a_recreated_group_triggers_again(approval_env) -> None:
    first = approved()
    again = json.loads(json.dumps(first))  # same ARN: group deleted and re-created
    again["id"] = "another-event"
    again["detail"]["CreationTime"] = first["detail"]["CreationTime"] + 86_400_000
    assert approval_trigger.handler(first)["status"] == "triggered"
    assert approval_trigger.handler(again)["status"] == "triggered"
    assert approval_trigger.handler(again)["status"] == "duplicate"
    assert len(approval_env.triggers()) == 2


def test_approval_ignores_events_that_are_not_our_approvals(approval_env) -> None:
    for event in (
        approved("PendingManualApproval"),
        approved("Rejected"),
        ev.model_package("Approved", group="someone-elses-group"),
    ):
        assert approval_trigger.handler(event)["status"] == "ignored"
    assert approval_env.triggers() == []


def test_a_late_redelivery_of_an_approval_the_version_lost_triggers_nothing(approval_env) -> None:
    event = approved()
    boto3.client("sagemaker").update_model_package(
        ModelPackageArn=event["detail"]["ModelPackageArn"], ModelApprovalStatus="Rejected"
    )
    result = approval_trigger.handler(event)
    assert result == {"status": "ignored", "reason": "the version is Rejected now"}
    assert approval_env.triggers() == []


def test_an_hpo_version_approved_without_review_is_set_back_and_not_deployed(aws, approval_env):
    """Approved through the registry API (as Studio or boto3 would), not the CLI."""
    event = approved(source="hpo")
    result = approval_trigger.handler(event)
    assert result["status"] == "refused"
    assert approval_env.triggers() == []
    package = boto3.client("sagemaker").describe_model_package(
        ModelPackageName=event["detail"]["ModelPackageArn"]
    )
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    assert "model-review" in package["ApprovalDescription"]
    [notice] = published(aws)
    assert "was refused" in notice["Message"] and "Nothing was deployed" in notice["Message"]


def test_an_hpo_version_approved_with_a_review_reference_is_deployed(approval_env) -> None:
    assert approval_trigger.handler(approved(source="hpo", review_ref="MRC-7"))["status"] == (
        "triggered"
    )
    assert len(approval_env.triggers()) == 1


def test_approval_retries_gitlab_5xx_and_timeouts_then_succeeds(approval_env) -> None:
    approval_env.faults.next(500, "timeout", 502)
    assert approval_trigger.handler(approved())["status"] == "triggered"
    assert len(approval_env.requests) == 4
    assert len(approval_env.triggers()) == 1


def test_gitlab_creating_the_pipeline_but_answering_late_triggers_exactly_once(approval_env):
    """The client times out after GitLab created the pipeline: a blind retry would create a
    second; the handler finds the first by its trigger id instead."""
    approval_env.faults.answer_late(3, delay=2.6)  # client timeout: 2 s
    result = approval_trigger.handler(approved())
    assert result["status"] == "triggered"
    assert len(approval_env.requests) == 1
    [pipeline] = approval_env.triggers()
    assert result["pipeline_id"] == str(pipeline["id"])


def test_a_late_answer_without_a_read_token_is_not_sent_twice(approval_env, monkeypatch) -> None:
    monkeypatch.delenv("BATCHOPS_GITLAB_READ_SECRET_ID")
    approval_env.faults.answer_late(3, delay=2.6)
    event = approved()
    with pytest.raises(approval_trigger.GitLabUnavailableError, match="outcome is unknown"):
        approval_trigger.handler(event)
    assert len(approval_env.triggers()) == 1  # the first send created it; nothing more


def test_approval_fails_for_redelivery_when_gitlab_stays_down(approval_env) -> None:
    approval_env.faults.next(*[503] * 4)
    event = approved()
    with pytest.raises(approval_trigger.GitLabUnavailableError, match="503"):
        approval_trigger.handler(event)
    assert approval_env.triggers() == []
    # the claim was released: the redelivery (GitLab back) triggers, once
    assert approval_trigger.handler(event)["status"] == "triggered"
    assert approval_trigger.handler(event)["status"] == "duplicate"


def test_approval_with_a_wrong_token_fails_without_retrying(approval_env) -> None:
    boto3.client("secretsmanager").put_secret_value(SecretId=SECRET, SecretString="wrong")
    with pytest.raises(approval_trigger.GitLabRejectedError, match="404") as raised:
        approval_trigger.handler(approved())
    assert raised.value.retryable is False
    assert len(approval_env.requests) == 1


def test_approval_answered_401_is_not_retried(approval_env) -> None:
    approval_env.faults.next(401)
    with pytest.raises(approval_trigger.GitLabRejectedError, match="401"):
        approval_trigger.handler(approved())
    assert len(approval_env.requests) == 1


def test_approval_without_the_trigger_secret_fails_and_triggers_nothing(approval_env) -> None:
    boto3.client("secretsmanager").delete_secret(SecretId=SECRET, ForceDeleteWithoutRecovery=True)
    with pytest.raises(HandlerError, match="cannot read trigger token secret"):
        approval_trigger.handler(approved())
    assert approval_env.requests == []


def test_approval_fails_loudly_on_a_malformed_event(approval_env) -> None:
    event = ev.model_package("Approved")
    del event["detail"]["ModelPackageArn"]
    with pytest.raises(MalformedEventError, match="ModelPackageArn"):
        approval_trigger.handler(event)


def test_approval_without_configuration_names_the_missing_variable(approval_env, monkeypatch):
    monkeypatch.delenv("BATCHOPS_GITLAB_URL")
    with pytest.raises(ConfigurationError, match="BATCHOPS_GITLAB_URL"):
        approval_trigger.handler(approved())


# ----- retrain_trigger -------------------------------------------------------------------
@pytest.fixture()
def retrain_env(aws, monkeypatch) -> dict[str, Any]:
    sm = boto3.client("sagemaker")
    sm.create_pipeline(
        PipelineName="batchops-training-hpo",
        PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}),
        RoleArn="arn:aws:iam::111111111111:role/batchops-data-science-sagemaker-execution",
    )
    for key, value in {
        "BATCHOPS_RETRAIN_PIPELINE_NAME": "batchops-training-hpo",
        "BATCHOPS_RETRAIN_COOLDOWN_MINUTES": "60",
        "BATCHOPS_IDEMPOTENCY_TABLE": TABLE,
        "BATCHOPS_TOPIC_ARN": aws["topic"],
    }.items():
        monkeypatch.setenv(key, value)
    return aws


def hpo_runs() -> int:
    found = boto3.client("sagemaker").list_pipeline_executions(PipelineName="batchops-training-hpo")
    return len(found["PipelineExecutionSummaries"])


def wait_until_hpo_runs_finish() -> None:
    sm = boto3.client("sagemaker")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = sm.list_pipeline_executions(PipelineName="batchops-training-hpo")
        statuses = {r["PipelineExecutionStatus"] for r in runs["PipelineExecutionSummaries"]}
        if not statuses & {"Executing", "Stopping"}:
            return
        time.sleep(0.05)


def test_retrain_starts_the_hpo_pipeline_once_per_failed_execution(retrain_env) -> None:
    event = ev.step("CheckModelQuality", "Failed", reason="MSE 14.2 > 10.0")
    assert retrain_trigger.handler(event)["status"] == "started"
    assert retrain_trigger.handler(event)["status"] == "duplicate"
    assert hpo_runs() == 1
    [message] = published(retrain_env)
    assert "started" in message["Subject"]


def test_retrain_inside_the_cooldown_starts_nothing_and_says_why(retrain_env, caplog) -> None:
    retrain_trigger.handler(ev.step("CheckModelQuality", "Failed"))
    second = retrain_trigger.handler(ev.step("CheckModelQuality", "Failed", account=ev.STAGING))
    assert second["status"] == "skipped"
    assert "60-minute window" in second["reason"]
    assert hpo_runs() == 1
    subjects = [m["Subject"] for m in published(retrain_env)]
    assert any("not started" in s for s in subjects)
    assert "retraining not started" in caplog.text


def test_retrain_after_the_cooldown_starts_again(retrain_env, monkeypatch) -> None:
    monkeypatch.setenv("BATCHOPS_RETRAIN_COOLDOWN_MINUTES", "0")
    retrain_trigger.handler(ev.step("CheckModelQuality", "Failed"))
    wait_until_hpo_runs_finish()
    assert retrain_trigger.handler(ev.step("CheckModelQuality", "Failed"))["status"] == "started"
    assert hpo_runs() == 2


@pytest.mark.parametrize(
    "event",
    [
        ev.step("CheckModelQuality", "Succeeded"),
        ev.step("CheckDataQuality", "Failed"),
        ev.model_package("Approved"),
    ],
    ids=["succeeded", "other-step", "other-event"],
)
def test_retrain_ignores_everything_but_a_failed_model_quality_step(retrain_env, event) -> None:
    assert retrain_trigger.handler(event)["status"] == "ignored"
    assert hpo_runs() == 0


def test_retrain_fails_loudly_on_a_malformed_event(retrain_env) -> None:
    event = ev.step("CheckModelQuality", "Failed")
    del event["detail"]["pipelineExecutionArn"]
    with pytest.raises(MalformedEventError, match="pipelineExecutionArn"):
        retrain_trigger.handler(event)
