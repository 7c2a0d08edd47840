"""The local event router on a running local cloud: delivery, order, retries, dead letters."""

from __future__ import annotations

import io
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
    """A Lambda function + rule in data-science whose handler is one of the above."""
    clients = account("data-science")
    iam, lam, events = clients.client("iam"), clients.client("lambda"), clients.client("events")
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
    events.put_rule(
        Name=f"test-{name}",
        EventPattern=f'{{"source": ["test.router"], "detail-type": ["{detail_type}"]}}',
    )
    events.put_targets(Rule=f"test-{name}", Targets=[{"Id": "fn", "Arn": arn}])


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
    assert len(CALLS["broken"]) == 3  # the router's attempts
    [dead] = [d for d in cloud.router.dead_letters() if d["rule"] == "test-broken"]
    assert dead["error"] == "ValueError: this handler always raises"
    assert dead["event"]["id"] == event["id"]
    assert dead["attempts"] == 3
    assert (cloud.state_dir / "dead-letters.jsonl").read_text().count('"rule": "test-broken"') == 1


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
    ensure_pipeline(staging, "batchops-inference", "staging")
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
