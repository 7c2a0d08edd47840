"""The executor runs pipeline definition JSON like SageMaker: graph, properties, conditions."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from batchops.config import load_settings

from .conftest import processing_step, run_pipeline, s3_input, s3_output, wait_for

SCRIPT = """
import json, os, sys
value = float(sys.argv[sys.argv.index("--rmse") + 1])
# the local cloud runs the container in a folder it names; on AWS the variable is unset
out = os.environ.get("BATCHOPS_CONTAINER_ROOT", "") + "/opt/ml/processing/evaluation"
os.makedirs(out, exist_ok=True)
with open(out + "/evaluation.json", "w") as f:
    json.dump({"regression_metrics": {"rmse": {"value": value}}}, f)
print("wrote rmse", value)
"""


EVALUATION = {"Get": "Steps.Evaluate.PropertyFiles.Evaluation"}


def _definition(bucket: str, role: str, code_uri: str) -> dict[str, Any]:
    out = {
        "Std:Join": {
            "On": "/",
            "Values": ["s3:/", bucket, "runs", {"Get": "Execution.PipelineExecutionId"}, "eval"],
        }
    }
    return {
        "Version": "2020-12-01",
        "Metadata": {},
        "Parameters": [
            {"Name": "Rmse", "Type": "Float", "DefaultValue": 1.5},
            {"Name": "Threshold", "Type": "Float", "DefaultValue": 2.0},
        ],
        "Steps": [
            {
                **processing_step(
                    "Evaluate",
                    role,
                    ["python3", "/opt/ml/processing/input/code/eval.py"],
                    volume_gb=30,
                    arguments=[
                        "--rmse",
                        {"Std:Join": {"On": "", "Values": [{"Get": "Parameters.Rmse"}]}},
                    ],
                    inputs=[s3_input("code", code_uri, "/opt/ml/processing/input/code")],
                    outputs=[s3_output("evaluation", out, "/opt/ml/processing/evaluation")],
                ),
                "PropertyFiles": [
                    {
                        "PropertyFileName": "Evaluation",
                        "OutputName": "evaluation",
                        "FilePath": "evaluation.json",
                    }
                ],
            },
            {
                "Name": "CheckTestQuality",
                "Type": "Condition",
                "Arguments": {
                    "Conditions": [
                        {
                            "Type": "LessThanOrEqualTo",
                            "LeftValue": {
                                "Std:JsonGet": {
                                    "PropertyFile": EVALUATION,
                                    "Path": "regression_metrics.rmse.value",
                                }
                            },
                            "RightValue": {"Get": "Parameters.Threshold"},
                        }
                    ],
                    "IfSteps": [],
                    "ElseSteps": [
                        {
                            "Name": "FailOnTestQuality",
                            "Type": "Fail",
                            "Arguments": {
                                "ErrorMessage": {
                                    "Std:Join": {
                                        "On": " ",
                                        "Values": [
                                            "RMSE",
                                            {
                                                "Std:JsonGet": {
                                                    "PropertyFile": EVALUATION,
                                                    "Path": "regression_metrics.rmse.value",
                                                }
                                            },
                                            "is above",
                                            {"Get": "Parameters.Threshold"},
                                        ],
                                    }
                                }
                            },
                        }
                    ],
                },
            },
        ],
    }


def _wait(sm: Any, arn: str) -> dict[str, Any]:
    return wait_for(sm, arn, timeout=60)


def _pipeline(account) -> tuple[Any, str]:  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    clients = account("data-science")
    code_key = f"{settings.bucket_prefix}/test-code/{uuid.uuid4().hex}/eval.py"
    clients.client("s3").put_object(Bucket=settings.bucket_name, Key=code_key, Body=SCRIPT)
    name = f"exec-test-{uuid.uuid4().hex[:8]}"
    definition = _definition(
        settings.bucket_name,
        settings.role_arn,
        f"s3://{settings.bucket_name}/{code_key.rsplit('/', 1)[0]}",
    )
    sm = clients.client("sagemaker")
    sm.create_pipeline(
        PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=settings.role_arn
    )
    return sm, name


def test_a_passing_condition_succeeds_and_reports_every_step(account) -> None:
    sm, name = _pipeline(account)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    assert _wait(sm, arn)["PipelineExecutionStatus"] == "Succeeded"
    steps = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    by_name = {s["StepName"]: s for s in steps}
    assert set(by_name) == {"Evaluate", "CheckTestQuality"}, "the Fail branch was not taken"
    assert by_name["CheckTestQuality"]["Metadata"]["Condition"]["Outcome"] == "true"
    assert "ProcessingJob" in by_name["Evaluate"]["Metadata"]


def test_a_failing_condition_fails_with_the_fail_step_message(account) -> None:
    sm, name = _pipeline(account)
    arn = sm.start_pipeline_execution(
        PipelineName=name,
        PipelineParameters=[{"Name": "Rmse", "Value": "3.25"}],
    )["PipelineExecutionArn"]
    described = _wait(sm, arn)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "RMSE 3.25 is above 2.0"


def test_start_is_idempotent_on_the_client_request_token(account) -> None:
    sm, name = _pipeline(account)
    token = uuid.uuid4().hex
    first = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)
    second = sm.start_pipeline_execution(PipelineName=name, ClientRequestToken=token)
    assert first["PipelineExecutionArn"] == second["PipelineExecutionArn"]
    _wait(sm, first["PipelineExecutionArn"])
    summaries = sm.list_pipeline_executions(PipelineName=name)["PipelineExecutionSummaries"]
    assert len(summaries) == 1


def test_execution_status_changes_are_emitted_as_eventbridge_events(cloud, account) -> None:
    sm, name = _pipeline(account)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    _wait(sm, arn)
    time.sleep(0.2)
    events = [e for e in cloud.bus.read() if e["detail"].get("pipelineExecutionArn") == arn]
    execution = [
        e["detail"]["currentPipelineExecutionStatus"]
        for e in events
        if e["detail-type"].endswith("Execution Status Change")
    ]
    assert execution == ["Executing", "Succeeded"]
    steps = {
        (e["detail"]["stepName"], e["detail"]["currentStepStatus"])
        for e in events
        if e["detail-type"].endswith("Step Status Change")
    }
    assert ("Evaluate", "Succeeded") in steps
    assert all(e["source"] == "aws.sagemaker" for e in events)


def _noop_step(name: str, role: str, seconds: float) -> dict[str, Any]:
    return processing_step(name, role, ["python3", "-c", f"import time; time.sleep({seconds})"])


def test_independent_steps_run_concurrently_and_dependants_wait(account) -> None:
    settings = load_settings("data-science")
    last = _noop_step("Last", settings.role_arn, 0)
    last["DependsOn"] = ["Left", "Right"]
    left = _noop_step("Left", settings.role_arn, 1.5)
    right = _noop_step("Right", settings.role_arn, 1.5)
    described = run_pipeline(account("data-science"), [left, right, last], timeout=60)
    assert described["PipelineExecutionStatus"] == "Succeeded"
    steps = {s["StepName"]: s for s in described["Steps"]}
    left, right = steps["Left"], steps["Right"]
    assert left["StartTime"] < right["EndTime"] and right["StartTime"] < left["EndTime"], (
        "the two independent steps overlap in time"
    )
    assert steps["Last"]["StartTime"] >= max(left["EndTime"], right["EndTime"])


def test_an_unsupported_step_type_fails_the_execution_naming_it(account) -> None:
    step = {"Name": "Tune", "Type": "EMR", "Arguments": {}}
    described = run_pipeline(account("data-science"), [step], timeout=60)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "EMR" in described["FailureReason"]


def test_a_crashing_script_fails_with_its_last_error_line(account) -> None:
    settings = load_settings("data-science")
    crash = processing_step(
        "Crash",
        settings.role_arn,
        ["python3", "-c", "raise ValueError('column 3 is not a number')"],
    )
    described = run_pipeline(account("data-science"), [crash], timeout=60)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "ValueError: column 3 is not a number" in described["FailureReason"]


def test_a_kms_alias_as_a_volume_key_fails_the_step_as_sagemaker_refuses_it(account) -> None:  # type: ignore[no-untyped-def]
    """``ClusterConfig.VolumeKmsKeyId`` takes a key id or key ARN (issue 14): an alias fails
    the step with a ValidationException naming the field, before anything runs."""
    settings = load_settings("data-science")
    step = _noop_step("Aliased", settings.role_arn, 0)
    alias = f"arn:aws:kms:{settings.region}:{settings.account_id}:alias/batchops"
    step["Arguments"]["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] = alias
    described = run_pipeline(account("data-science"), [step], timeout=60)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "ValidationException: ClusterConfig.VolumeKmsKeyId" in described["FailureReason"]
    assert "is a KMS alias" in described["FailureReason"]
