"""Rules hold on every path, not only in the CLI: the review rule for HPO versions, one run
per uploaded object, a rejected version that stops serving. The real flow on the local cloud:
registry and S3 API calls, EventBridge events, the Lambda handlers, the GitLab stand-in.
"""

from __future__ import annotations

import io
import json

import pytest
from boto3.s3.transfer import TransferConfig

from batchops import deploy, registry
from batchops.config import load_settings
from batchops.errors import GovernanceError
from batchops.localcloud.server import LocalCloud

from .test_gitlab_faults import pipelines_for, settle

pytestmark = [pytest.mark.localcloud]

SLEEPLESS = json.dumps(
    {
        "Version": "2020-12-01",
        "Parameters": [
            {"Name": "InputBucket", "Type": "String", "DefaultValue": "none"},
            {"Name": "InputKey", "Type": "String", "DefaultValue": "none"},
            {"Name": "ModelPackageArn", "Type": "String", "DefaultValue": ""},
        ],
        "Steps": [],
    }
)


def version(account, source: str = "training", status: str = "PendingManualApproval") -> str:
    sm = account("data-science").client("sagemaker")
    return str(
        sm.create_model_package(
            ModelPackageGroupName="batchops-abalone",
            ModelApprovalStatus=status,
            CustomerMetadataProperties={"source": source},
            InferenceSpecification={
                "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/m.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
    )


def pipeline(account, env: str, name: str, pinned: str = "") -> None:
    settings = load_settings(env)
    sm = account(env).client("sagemaker")
    definition = json.loads(SLEEPLESS)
    definition["Parameters"][2]["DefaultValue"] = pinned
    names = [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]]
    call = sm.update_pipeline if name in names else sm.create_pipeline
    extra = {} if name in names else {"RoleArn": settings.role_arn}
    call(PipelineName=name, PipelineDefinition=json.dumps(definition), **extra)


def executions(account, env: str, name: str) -> list[dict]:
    sm = account(env).client("sagemaker")
    return list(sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"])


# ----- defect 1: the review rule outside the CLI ------------------------------------------
def test_an_hpo_version_approved_through_the_registry_api_is_not_deployed(
    cloud: LocalCloud, account
) -> None:
    """As Studio or boto3 would: UpdateModelPackage(Approved) with no review record."""
    arn = version(account, source="hpo")
    before = len(cloud.outbox.read())
    sm = account("data-science").client("sagemaker")
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    settle(cloud)
    assert pipelines_for(cloud, arn) == [], "nothing reached GitLab"
    now = sm.describe_model_package(ModelPackageName=arn)
    assert now["ModelApprovalStatus"] == "PendingManualApproval"
    assert "model-review-committee reference" in now["ApprovalDescription"]
    told = [m for m in cloud.outbox.read()[before:] if "refused" in m["subject"]]
    assert told and told[0]["recipients"] == ["data-science-team@example.com"]
    # and the deploy command (which the deploy job runs) refuses such a version too
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    settle(cloud)
    forced = registry.ModelVersion(
        **{
            **registry.resolve(
                account("data-science"), load_settings("data-science"), arn
            ).to_json(),
            "status": "Approved",
        }
    )
    with pytest.raises(GovernanceError, match="no model-review record"):
        registry.require_deployable(forced)


# ----- defect 2: one upload, one run --------------------------------------------------------
def test_a_multipart_upload_starts_training_once_and_a_redelivery_starts_nothing(
    cloud: LocalCloud, account
) -> None:
    pipeline(account, "data-science", "batchops-training")
    settings = load_settings("data-science")
    s3 = account("data-science").client("s3")
    key = f"{settings.training_data_prefix}multipart/training-data.csv"
    before = {
        e["PipelineExecutionArn"] for e in executions(account, "data-science", "batchops-training")
    }
    body = (b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15,15\n") * 130_000  # ~6 MB
    s3.upload_fileobj(
        io.BytesIO(body),
        settings.bucket_name,
        key,
        Config=TransferConfig(
            multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024
        ),
    )
    settle(cloud)
    created = [
        e
        for e in cloud.bus.read()
        if e["detail-type"] == "Object Created" and e["detail"]["object"]["key"] == key
    ]
    assert [e["detail"]["reason"] for e in created] == ["CompleteMultipartUpload"]
    new = [
        e
        for e in executions(account, "data-science", "batchops-training")
        if e["PipelineExecutionArn"] not in before
    ]
    assert len(new) == 1
    # S3 delivers at least once: the same event again, and a copy with another event id
    cloud.bus.emit(created[0])
    cloud.bus.emit({**created[0], "id": "another-delivery-of-the-same-version"})
    settle(cloud)
    again = [
        e
        for e in executions(account, "data-science", "batchops-training")
        if e["PipelineExecutionArn"] not in before
    ]
    assert len(again) == 1


# ----- defect 6: a rejected version stops serving ------------------------------------------
def test_rejecting_a_deployed_version_stops_its_runs_and_puts_the_previous_one_back(
    cloud: LocalCloud, account, fast_gitlab_client
) -> None:
    old = version(account)
    registry.approve(account("data-science"), load_settings("data-science"), old)
    settle(cloud)
    new = version(account)
    registry.approve(account("data-science"), load_settings("data-science"), new)
    settle(cloud)
    assert len(pipelines_for(cloud, new)) == 1, "the new version's deploy was triggered"
    pipeline(account, "staging", "batchops-inference", pinned=new)  # what its deploy did
    staging = load_settings("staging")
    before = len(cloud.outbox.read())

    registry.reject(account("data-science"), load_settings("data-science"), new, reason="leak")
    settle(cloud)
    # the deploy pipeline is triggered again, with the previous approved version
    replacements = [
        t for t in pipelines_for(cloud, old) if t["variables"].get("REPLACES_MODEL_PACKAGE_ARN")
    ]
    assert [t["variables"]["REPLACES_MODEL_PACKAGE_ARN"] for t in replacements] == [new]
    # until it runs, a new batch is not scored with the rejected version
    runs_before = len(executions(account, "staging", "batchops-inference"))
    s3 = account("staging").client("s3")
    s3.put_object(
        Bucket=staging.bucket_name,
        Key=f"{staging.inference_data_prefix}after-reject/inference-data.csv",
        Body=b"M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n",
    )
    settle(cloud)
    assert len(executions(account, "staging", "batchops-inference")) == runs_before
    subjects = [m["subject"] for m in cloud.outbox.read()[before:]]
    assert any("not started" in s for s in subjects), subjects
    assert any("rejected" in s for s in subjects), subjects
    # a manual start is refused too, in one line
    with pytest.raises(GovernanceError, match="Rejected now"):
        deploy.require_pinned_approved(account("staging"), staging, {})


def _scheduled_run(account, moment: str) -> dict:
    """What EventBridge Scheduler sends batchops-pipeline-trigger (the Terraform's input)."""
    staging = load_settings("staging")
    event = {
        "source": "batchops.scheduler",
        "detail-type": "Scheduled Pipeline Run",
        "time": moment,
        "schedule_arn": f"arn:aws:scheduler:{staging.region}:{staging.account_id}:schedule/"
        "default/batchops-staging-inference-schedule",
        "detail": {"pipeline_arn": "", "parameters": {}},
    }
    answer = (
        account("staging")
        .client("lambda")
        .invoke(FunctionName="batchops-pipeline-trigger", Payload=json.dumps(event).encode())
    )
    assert "FunctionError" not in answer, answer["Payload"].read()
    return json.loads(answer["Payload"].read())


def test_a_schedule_runs_only_an_approved_version_and_once_per_scheduled_time(
    cloud: LocalCloud, account
) -> None:
    """The inference schedule goes through batchops-pipeline-trigger (Terraform), not to the
    pipeline: a rejected version scores nothing on schedule either."""
    approved = version(account, status="Approved")
    pipeline(account, "staging", "batchops-inference", pinned=approved)
    runs_before = len(executions(account, "staging", "batchops-inference"))
    first = _scheduled_run(account, "2026-12-02T02:00:00Z")
    assert first["status"] == "started"
    # Scheduler retries a target it did not hear back from: still one run for that time
    again = _scheduled_run(account, "2026-12-02T02:00:00Z")
    assert again["status"] == "duplicate" and again["execution_arn"] == first["execution_arn"]
    assert len(executions(account, "staging", "batchops-inference")) == runs_before + 1

    registry.reject(
        account("data-science"), load_settings("data-science"), approved, reason="drift"
    )
    settle(cloud)
    before = len(cloud.outbox.read())
    refused = _scheduled_run(account, "2026-12-03T02:00:00Z")
    assert refused["status"] == "refused" and "Rejected" in refused["reason"]
    assert len(executions(account, "staging", "batchops-inference")) == runs_before + 1
    subjects = [m["subject"] for m in cloud.outbox.read()[before:]]
    assert "[batchops] scheduled batchops-inference not started" in subjects


def test_a_scheduled_event_without_its_time_is_refused_in_one_line(account) -> None:
    answer = (
        account("staging")
        .client("lambda")
        .invoke(
            FunctionName="batchops-pipeline-trigger",
            Payload=json.dumps(
                {
                    "source": "batchops.scheduler",
                    "detail-type": "Scheduled Pipeline Run",
                    "time": "<aws.scheduler.scheduled-time>",
                }
            ).encode(),
        )
    )
    assert answer.get("FunctionError") == "Unhandled"
    assert "has no scheduled time" in json.loads(answer["Payload"].read())["errorMessage"]
