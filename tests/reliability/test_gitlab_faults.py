"""Exactly one deploy pipeline per approved version, whatever GitLab does — the real flow.

A version is approved through the registry API; SageMaker's state-change event goes through
the local EventBridge to the approval Lambda, which triggers the GitLab stand-in. GitLab
misbehaves in the three ways that lose or duplicate deploys: an outage that recovers, a
pipeline created but answered too late, an outage longer than every retry.
"""

from __future__ import annotations

import json

import pytest

from batchops import registry
from batchops.cli.main import main
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud

pytestmark = [pytest.mark.localcloud]
APPROVAL_DLQ = "batchops-approval-trigger-dlq"


def approve(account, arn: str) -> None:
    settings = load_settings("data-science")
    registry.approve(account("data-science"), settings, arn)


def pipelines_for(cloud: LocalCloud, arn: str) -> list[dict]:
    assert cloud.gitlab is not None
    return [t for t in cloud.gitlab.triggers() if t["variables"].get("MODEL_PACKAGE_ARN") == arn]


def dead_letters(capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["events", "dead-letters", "--env", "data-science", "--json"]) == 0
    return json.loads(capsys.readouterr().out)["dead_letters"]


def settle(cloud: LocalCloud, seconds: float = 60) -> None:
    assert cloud.router is not None and cloud.router.wait_idle(seconds)


def test_gitlab_answering_500_for_a_while_then_recovering_deploys_exactly_once(
    cloud: LocalCloud, account, fast_gitlab_client, new_version, capsys
) -> None:
    """Six 500s: the handler's own four attempts run out during the outage, Lambda's first
    asynchronous retry gets two more 500s, then GitLab is back."""
    arn = new_version(account("data-science"))
    sent_before = len(cloud.gitlab.requests)
    cloud.gitlab.faults.next(*[500] * 6)
    approve(account, arn)
    settle(cloud)
    assert len(pipelines_for(cloud, arn)) == 1
    sent = cloud.gitlab.requests[sent_before:]
    assert [r["fault"].status if r["fault"] else None for r in sent] == [500] * 6 + [None]
    assert not [d for d in dead_letters(capsys) if d["resource"] == arn]


def test_gitlab_creating_the_pipeline_but_answering_late_deploys_exactly_once(
    cloud: LocalCloud, account, fast_gitlab_client, new_version, capsys
) -> None:
    arn = new_version(account("data-science"))
    sent_before = len(cloud.gitlab.requests)
    cloud.gitlab.faults.answer_late(10, delay=1.5)  # every answer after the 1 s timeout
    approve(account, arn)
    settle(cloud)
    [pipeline] = pipelines_for(cloud, arn)
    assert len(cloud.gitlab.requests) - sent_before == 1, "no second trigger was sent"
    assert not [d for d in dead_letters(capsys) if d["resource"] == arn]
    # the claim records the pipeline GitLab created
    table = account("data-science").client("dynamodb")
    items = table.scan(TableName="batchops-data-science-idempotency")["Items"]
    claims = [i for i in items if i["pk"]["S"].startswith(f"approval#{arn}#")]
    assert [c["pipeline_id"]["S"] for c in claims] == [str(pipeline["id"])]


def test_gitlab_down_past_all_retries_leaves_a_dead_letter_that_redrive_delivers_once(
    cloud: LocalCloud, account, fast_gitlab_client, new_version, capsys
) -> None:
    arn = new_version(account("data-science"))
    notified_before = len(cloud.outbox.read())
    cloud.gitlab.faults.fail_for(3600, status=503)
    approve(account, arn)
    settle(cloud)
    assert pipelines_for(cloud, arn) == []
    [letter] = [d for d in dead_letters(capsys) if d["resource"] == arn]
    assert letter["source_name"] == "batchops-approval-trigger"
    assert letter["detail_type"] == "SageMaker Model Package State Change"
    assert "503" in letter["error"]
    assert letter["queue_arn"].endswith(f":{APPROVAL_DLQ}")
    # the queue's alarm told the data-science team
    alarms = [m for m in cloud.outbox.read()[notified_before:] if APPROVAL_DLQ in m["subject"]]
    assert alarms and json.loads(alarms[-1]["message"])["NewStateValue"] == "ALARM"
    assert alarms[-1]["recipients"] == ["data-science-team@example.com"]

    cloud.gitlab.faults.clear()  # GitLab is back
    capsys.readouterr()
    assert main(["events", "redrive", letter["id"], "--env", "data-science"]) == 0
    assert "delivered" in capsys.readouterr().out
    settle(cloud)
    assert len(pipelines_for(cloud, arn)) == 1
    assert [d for d in dead_letters(capsys) if d["id"] == letter["id"]] == []
    # redriving everything again delivers nothing twice
    assert main(["events", "redrive", "--env", "data-science"]) == 0
    settle(cloud)
    assert len(pipelines_for(cloud, arn)) == 1
    assert main(["events", "redrive", letter["id"], "--env", "data-science"]) == 5  # gone


def test_a_redelivered_dead_letter_of_a_deployed_version_triggers_nothing(
    cloud: LocalCloud, account, fast_gitlab_client, new_version
) -> None:
    """Redriving an approval whose deploy was triggered after all: the claim says done."""
    arn = new_version(account("data-science"))
    approve(account, arn)
    settle(cloud)
    approvals = [
        e
        for e in cloud.bus.read()
        if e["detail-type"] == "SageMaker Model Package State Change"
        and e["detail"]["ModelPackageArn"] == arn
        and e["detail"]["ModelApprovalStatus"] == "Approved"
    ]
    lam = account("data-science").client("lambda")
    answer = lam.invoke(
        FunctionName="batchops-approval-trigger", Payload=json.dumps(approvals[-1]).encode()
    )
    assert json.loads(answer["Payload"].read())["status"] == "duplicate"
    assert len(pipelines_for(cloud, arn)) == 1
