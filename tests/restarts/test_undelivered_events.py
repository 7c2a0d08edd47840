"""An event waiting for a retry when the local cloud stops is delivered after the restart.

The real flow: a version approved through the registry API while GitLab is down; the
approval Lambda fails and Lambda schedules its asynchronous retry (a minute later, AWS's
delay); the local cloud is stopped meanwhile and started again on the same state folder,
GitLab now up. EventBridge would have kept the event; so does the router's ledger.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from batchops import registry
from batchops.aws import clients_for
from batchops.config import load_settings
from batchops.localcloud.aws.events.ledger import DeliveryLedger
from batchops.localcloud.runtime import start_local_cloud
from batchops.localcloud.server import LocalCloud

pytestmark = [pytest.mark.localcloud]


def _pipelines_for(cloud: LocalCloud, arn: str) -> list[dict]:
    assert cloud.gitlab is not None
    return [t for t in cloud.gitlab.triggers() if t["variables"].get("MODEL_PACKAGE_ARN") == arn]


def test_an_approval_waiting_for_its_retry_when_the_cloud_stops_is_delivered_once_after_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_version, fast_approval_client
) -> None:
    state = tmp_path / "state"
    # AWS's delays (Lambda retries 60 s after the first attempt) shrunk to 6 s
    options = {"gitlab_run_jobs": False, "retry_time_scale": 0.1}
    first = start_local_cloud(state_dir=state, options=options)
    try:
        monkeypatch.setenv("BATCHOPS_ENDPOINT", first.endpoint)
        ds = clients_for(load_settings("data-science"), first.endpoint)
        fast_approval_client(ds)
        arn = new_version(ds)
        assert first.gitlab is not None and first.router is not None
        first.gitlab.faults.fail_for(3600, status=503)
        registry.approve(
            clients_for(load_settings("data-science"), first.endpoint),
            load_settings("data-science"),
            arn,
        )
        deadline = time.monotonic() + 60
        while first.router.stats["retries"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert first.router.stats["retries"] >= 1, "the approval Lambda never failed"
        assert _pipelines_for(first, arn) == []
        assert first.router.ledger is not None and first.router.ledger.unsettled() >= 1
    finally:
        first.stop()  # the retry was due in a few seconds: only the ledger has it now
    stopped_at = time.time()

    owed = DeliveryLedger(state / "router").pending()
    [approval] = [
        p
        for p in owed
        if p.event.get("detail", {}).get("ModelPackageArn") == arn
        and p.event["detail"].get("ModelApprovalStatus") == "Approved"
    ]
    [waiting] = approval.retries.values()
    assert waiting["stage"] == "lambda-async" and waiting["attempts"] == 1
    # the ledger knows when the retry is due: a restart waits what is left of the back-off
    assert waiting["due_at"] > stopped_at

    second = start_local_cloud(state_dir=state, options=options)
    try:
        monkeypatch.setenv("BATCHOPS_ENDPOINT", second.endpoint)
        assert second.router is not None
        assert second.restored.get("undelivered_events", 0) >= 1
        if waiting["due_at"] - time.time() > 1.0:
            assert _pipelines_for(second, arn) == [], "retried before its back-off ended"
        assert second.router.wait_idle(120)
        assert time.time() >= waiting["due_at"]
        assert len(_pipelines_for(second, arn)) == 1, "delivered once after the restart"
        assert not [
            d
            for d in second.router.dead_letters()
            if d["event"].get("detail", {}).get("ModelPackageArn") == arn
        ]
        assert second.router.ledger is not None and second.router.ledger.unsettled() == 0
        status = json.loads(json.dumps(second.router.status()))
        assert status["undelivered"] == 0
    finally:
        second.stop()

    # and a third start delivers nothing again
    third = start_local_cloud(state_dir=state, options=options)
    try:
        assert third.router is not None and third.router.wait_idle(60)
        assert "undelivered_events" not in third.restored
        assert len(_pipelines_for(third, arn)) == 1
    finally:
        third.stop()
