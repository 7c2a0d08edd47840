"""A local cloud for the event tests (its own: it runs deploy jobs off and retries fast)."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud

#: Handlers the router tests deploy as Lambda functions; importable as ``events_test_handlers``.
HANDLERS = types.ModuleType("events_test_handlers")
sys.modules[HANDLERS.__name__] = HANDLERS


def trivial_definition(pinned: str | None = None) -> str:
    """A pipeline with the InputBucket/InputKey parameters and no steps (runs in no time);
    ``pinned``: the ModelPackageArn an inference pipeline is deployed with."""
    parameters = [
        {"Name": "InputBucket", "Type": "String", "DefaultValue": "none"},
        {"Name": "InputKey", "Type": "String", "DefaultValue": "none"},
    ]
    if pinned:
        parameters.append({"Name": "ModelPackageArn", "Type": "String", "DefaultValue": pinned})
    return json.dumps({"Version": "2020-12-01", "Parameters": parameters, "Steps": []})


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    state = tmp_path_factory.mktemp("events-cloud")
    started = start_local_cloud(
        state_dir=Path(state), options={"gitlab_run_jobs": False, "retry_time_scale": 0.0005}
    )
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture()
def account(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Clients]:
    monkeypatch.setenv("BATCHOPS_ENDPOINT", cloud.endpoint)

    def make(env: str) -> Clients:
        return clients_for(load_settings(env), cloud.endpoint)

    return make


def ensure_pipeline(clients: Clients, name: str, env: str, pinned: str | None = None) -> str:
    settings = load_settings(env)
    sm = clients.client("sagemaker")
    existing = sm.list_pipelines(PipelineNamePrefix=name)["PipelineSummaries"]
    for summary in existing:
        if summary["PipelineName"] == name:
            if pinned:
                sm.update_pipeline(PipelineName=name, PipelineDefinition=trivial_definition(pinned))
            return str(summary["PipelineArn"])
    return str(
        sm.create_pipeline(
            PipelineName=name,
            PipelineDefinition=trivial_definition(pinned),
            RoleArn=settings.role_arn,
        )["PipelineArn"]
    )


def executions(clients: Clients, name: str) -> list[dict[str, Any]]:
    found = clients.client("sagemaker").list_pipeline_executions(PipelineName=name)
    return list(found["PipelineExecutionSummaries"])
