"""A local cloud shared by the tests of this package (starting one costs seconds).

Package scope, not session: moto's backends are process-wide, so one local cloud runs in a
process at a time (``LocalCloud.start`` refuses a second); pytest stops this one when a
worker moves on to another package's tests, and starts it again if it comes back.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud

#: The pinned scikit-learn image (images.json): a step on it runs under that image's runtime.
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def s3_input(
    name: str, uri: str, local_path: str, distribution: str = "FullyReplicated"
) -> dict[str, Any]:
    """A ``ProcessingInputs`` entry: the objects under ``uri`` at ``local_path``."""
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local_path,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": distribution,
        },
    }


def s3_output(name: str, uri: str, local_path: str) -> dict[str, Any]:
    """A ``ProcessingOutputConfig.Outputs`` entry, uploaded at the end of the job."""
    return {
        "OutputName": name,
        "S3Output": {"S3Uri": uri, "LocalPath": local_path, "S3UploadMode": "EndOfJob"},
    }


def processing_step(
    name: str,
    role: str,
    entrypoint: Sequence[Any],
    *,
    image: str = SKLEARN_IMAGE,
    instances: int = 1,
    volume_gb: int = 1,
    arguments: Sequence[Any] = (),
    inputs: Sequence[dict[str, Any]] = (),
    outputs: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The one builder of the tests' (and the platform benchmark's) Processing steps."""
    app: dict[str, Any] = {"ImageUri": image, "ContainerEntrypoint": list(entrypoint)}
    if arguments:
        app["ContainerArguments"] = list(arguments)
    step_args: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": "ml.m5.large",
                "InstanceCount": instances,
                "VolumeSizeInGB": volume_gb,
            }
        },
        "AppSpecification": app,
        "RoleArn": role,
    }
    if inputs:
        step_args["ProcessingInputs"] = list(inputs)
    if outputs:
        step_args["ProcessingOutputConfig"] = {"Outputs": list(outputs)}
    return {"Name": name, "Type": "Processing", "Arguments": step_args}


def wait_for(sm: Any, arn: str, timeout: float = 120) -> dict[str, Any]:
    """``DescribePipelineExecution`` once the execution has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        described = sm.describe_pipeline_execution(PipelineExecutionArn=arn)
        if described["PipelineExecutionStatus"] not in ("Executing", "Stopping"):
            return dict(described)
        time.sleep(0.2)
    raise AssertionError(f"{arn} still running after {timeout}s")


def run_pipeline(
    clients: Clients, steps: list[dict[str, Any]], timeout: float = 180
) -> dict[str, Any]:
    """Create a pipeline of ``steps`` in the data-science account, run it to its end:
    its ``DescribePipelineExecution``, with its ``ListPipelineExecutionSteps`` as ``Steps``."""
    role = load_settings("data-science").role_arn
    sm = clients.client("sagemaker")
    name = f"test-{uuid.uuid4().hex[:8]}"
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": steps}
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=role)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    described = wait_for(sm, arn, timeout)
    listed = sm.list_pipeline_execution_steps(PipelineExecutionArn=arn)
    described["Steps"] = listed["PipelineExecutionSteps"]
    return described


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
