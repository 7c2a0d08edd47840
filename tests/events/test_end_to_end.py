"""Approving a version on the local cloud triggers exactly one GitLab deploy pipeline."""

from __future__ import annotations

import json
import time

import pytest

from batchops.localcloud.server import LocalCloud

pytestmark = [pytest.mark.localcloud]


def test_approval_triggers_one_gitlab_pipeline_and_replays_add_none(
    cloud: LocalCloud, account
) -> None:
    data_science = account("data-science")
    # 'batchops gitlab configure' stores a real trigger token: the stand-in must accept it
    data_science.client("secretsmanager").put_secret_value(
        SecretId="batchops/gitlab-trigger-token", SecretString="glptt-rotated-token"
    )
    sm = data_science.client("sagemaker")
    arn = sm.create_model_package(
        ModelPackageGroupName="batchops-abalone",
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
    )["ModelPackageArn"]
    before = [t for t in cloud.gitlab.triggers() if t["variables"]["MODEL_PACKAGE_ARN"] == arn]
    assert before == []  # pending approval triggers nothing
    sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not cloud.gitlab.triggers():
        time.sleep(0.05)
    assert cloud.router.wait_idle(30)
    approvals = [
        e
        for e in cloud.bus.read()
        if e["detail-type"] == "SageMaker Model Package State Change"
        and e["detail"]["ModelPackageArn"] == arn
        and e["detail"]["ModelApprovalStatus"] == "Approved"
    ]
    for _ in range(5):  # EventBridge redelivers: the same event again
        cloud.bus.emit(approvals[-1])
    assert cloud.router.wait_idle(30)
    mine = [t for t in cloud.gitlab.triggers() if t["variables"]["MODEL_PACKAGE_ARN"] == arn]
    assert len(mine) == 1
    assert mine[0]["variables"]["DEPLOY_ENV"] == "staging"
    assert not [d for d in cloud.router.dead_letters() if "approval" in d["rule"]]
    # the stand-in serves the record for the demo and the CLI
    import urllib.request

    with urllib.request.urlopen(f"{cloud.endpoint}/_batchops/gitlab-triggers") as answer:
        served = json.load(answer)
    assert [t["variables"]["MODEL_PACKAGE_ARN"] for t in served].count(arn) == 1
