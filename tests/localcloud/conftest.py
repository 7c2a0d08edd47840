"""A local cloud shared by the tests of this package (starting one costs seconds).

Package scope, not session: moto's backends are process-wide, so one local cloud runs in a
process at a time (``LocalCloud.start`` refuses a second); pytest stops this one when a
worker moves on to another package's tests, and starts it again if it comes back.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    state = tmp_path_factory.mktemp("localcloud")
    started = start_local_cloud(state_dir=Path(state), options={"keep_workspaces": True})
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture()
def account(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``account("staging")`` -> Clients acting in that account of the local cloud."""
    monkeypatch.setenv("BATCHOPS_ENDPOINT", cloud.endpoint)

    def make(env: str) -> Clients:
        return clients_for(load_settings(env), cloud.endpoint)

    return make


@pytest.fixture()
def register(account):  # type: ignore[no-untyped-def]
    """``register(status=..., source=...)`` -> version number of a new package in the group
    (a placeholder container: for registry and governance tests, not for running)."""

    def make(status: str = "PendingManualApproval", source: str = "training") -> int:
        settings = load_settings("data-science")
        arn = (
            account("data-science")
            .client("sagemaker")
            .create_model_package(
                ModelPackageGroupName=settings.model_package_group_name,
                ModelApprovalStatus=status,
                InferenceSpecification={
                    "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/model.tar.gz"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"],
                },
                CustomerMetadataProperties={"source": source},
            )["ModelPackageArn"]
        )
        return int(arn.rsplit("/", 1)[-1])

    return make
