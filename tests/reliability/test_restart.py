"""The local cloud survives ``kill -9``: restarted on the same state folder it serves the same
registry, pipelines, deployments and triggers, and fails the execution it was running.

The real thing: ``batchops local up`` in a subprocess, killed with SIGKILL while a pipeline
step runs, restarted on the same ``--state-dir``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.aws import clients_for
from batchops.config import load_settings
from batchops.localcloud.executor.processes import start_token
from batchops.localcloud.journal import LARGE_BODY_BYTES

pytestmark = [pytest.mark.localcloud]

SLEEPER = {
    "Version": "2020-12-01",
    "Parameters": [{"Name": "Seconds", "Type": "String", "DefaultValue": "600"}],
    "Steps": [
        {
            "Name": "LongStep",
            "Type": "Processing",
            "Arguments": {
                "ProcessingResources": {
                    "ClusterConfig": {
                        "InstanceCount": 1,
                        "InstanceType": "ml.m5.large",
                        "VolumeSizeInGB": 30,
                    }
                },
                "AppSpecification": {
                    "ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/"
                    "sagemaker-scikit-learn:1.2-1-cpu-py3",
                    "ContainerEntrypoint": ["python3", "-c", "import time; time.sleep(600)"],
                },
                "RoleArn": "arn:aws:iam::222222222222:role/batchops-sagemaker-execution",
            },
        }
    ],
}


UP = [sys.executable, "-m", "batchops.cli.main", "local", "up"]


class LocalUp:
    """``batchops local up`` as a user runs it, in its own process."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.process: subprocess.Popen[str] | None = None
        self.endpoint = ""

    def start(self) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATCHOPS_ENDPOINT")}
        self.process = subprocess.Popen(
            [*UP, "--state-dir", str(self.state)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith("endpoint="):
            self.process.kill()
            raise AssertionError(f"local up failed: {line}{self.process.stderr.read()}")
        self.endpoint = line.strip().split("=", 1)[1]
        return self.endpoint

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()


@pytest.fixture()
def state(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"


def _internal(endpoint: str, name: str):  # type: ignore[no-untyped-def]
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_batchops/{name}", timeout=10) as answer:
        return json.load(answer)


def _execution(endpoint: str, arn: str) -> dict:
    return next(r for r in _internal(endpoint, "executions") if r["arn"] == arn)


def test_a_local_cloud_killed_mid_execution_restarts_with_its_state(state: Path) -> None:
    from batchops.deploy import _write_history

    first = LocalUp(state)
    endpoint = first.start()
    try:
        ds = clients_for(load_settings("data-science"), endpoint)
        staging_settings = load_settings("staging")
        staging = clients_for(staging_settings, endpoint)
        sm = ds.client("sagemaker")
        package = sm.create_model_package(
            ModelPackageGroupName="batchops-abalone",
            ModelApprovalStatus="Approved",
            CustomerMetadataProperties={"source": "training"},
            InferenceSpecification={
                "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/m.tar.gz"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        ssm = staging.client("sagemaker")
        ssm.create_pipeline(
            PipelineName="batchops-inference",
            PipelineDefinition=json.dumps(SLEEPER),
            RoleArn=staging_settings.role_arn,
        )
        _write_history(
            staging,
            staging_settings,
            [{"environment": "staging", "version": 1, "model_package_arn": package}],
        )
        # frequent writes go to the journal (replayed on restart), not a snapshot each
        table = f"batchops-{staging_settings.environment}-idempotency"
        for i in range(30):
            staging.client("dynamodb").put_item(
                TableName=table, Item={"pk": {"S": f"journaled-{i}"}, "n": {"N": str(i)}}
            )
        # journaled writes with side effects (an S3 event, an e-mail): replayed, not repeated
        staging.client("s3").put_object(
            Bucket=staging_settings.bucket_name, Key="scratch/once.csv", Body=b"1\n"
        )
        # a large object write is snapshotted at once (its body in the blob store only)
        large = os.urandom(LARGE_BODY_BYTES + 1)
        staging.client("s3").put_object(
            Bucket=staging_settings.bucket_name, Key="scratch/large.bin", Body=large
        )
        journal = state / "moto" / "journal.log"
        assert not journal.exists() or journal.stat().st_size < LARGE_BODY_BYTES
        sns = staging.client("sns")
        topic = sns.list_topics()["Topics"][0]["TopicArn"]
        published = sns.publish(TopicArn=topic, Subject="once", Message="once")["MessageId"]
        execution = ssm.start_pipeline_execution(PipelineName="batchops-inference")[
            "PipelineExecutionArn"
        ]
        pid = None
        deadline = time.monotonic() + 120
        while pid is None and time.monotonic() < deadline:
            record = _execution(endpoint, execution)
            folder = state / "executions" / record["execution_id"] / "processes"
            pids = list(folder.glob("*.json")) if folder.is_dir() else []
            pid = int(pids[0].stem) if pids else None
            time.sleep(0.1)
        assert pid is not None, "the step process never started"
        token = start_token(pid)
        assert token is not None
    finally:
        first.kill()
    assert start_token(pid) == token, "kill -9 of the cloud leaves the step process orphaned"

    second = LocalUp(state)
    try:
        assert second.start() == endpoint, "a restart keeps its endpoint"
        ds = clients_for(load_settings("data-science"), endpoint)
        staging = clients_for(staging_settings, endpoint)
        # the registry, the pipeline, the deployment record
        described = ds.client("sagemaker").describe_model_package(ModelPackageName=package)
        assert described["ModelApprovalStatus"] == "Approved"
        assert described["CustomerMetadataProperties"]["source"] == "training"
        names = [
            p["PipelineName"]
            for p in staging.client("sagemaker").list_pipelines()["PipelineSummaries"]
        ]
        assert "batchops-inference" in names
        from batchops.deploy import read_history

        assert read_history(staging, staging_settings)[-1]["model_package_arn"] == package
        items = staging.client("dynamodb").scan(TableName=table)["Items"]
        assert {f"journaled-{i}" for i in range(30)} <= {i["pk"]["S"] for i in items}
        assert _internal(endpoint, "health")["restored"]["journal"]["failed"] == 0
        assert (
            staging.client("s3")
            .get_object(Bucket=staging_settings.bucket_name, Key="scratch/once.csv")["Body"]
            .read()
            == b"1\n"
        )
        assert (
            staging.client("s3")
            .get_object(Bucket=staging_settings.bucket_name, Key="scratch/large.bin")["Body"]
            .read()
            == large
        )
        created = [
            e
            for e in _internal(endpoint, "events")
            if e["detail-type"] == "Object Created"
            and e["detail"]["object"]["key"] == "scratch/once.csv"
        ]
        assert len(created) == 1, "the replayed object write emitted no second S3 event"
        mails = [m["message_id"] for m in _internal(endpoint, "notifications")]
        assert mails.count(published) == 1, "the replayed publish recorded no second e-mail"
        # the interrupted execution: recorded, failed with the reason, its process stopped
        run = staging.client("sagemaker").describe_pipeline_execution(
            PipelineExecutionArn=execution
        )
        assert run["PipelineExecutionStatus"] == "Failed"
        assert "stopped while this execution ran" in run["FailureReason"]
        steps = staging.client("sagemaker").list_pipeline_execution_steps(
            PipelineExecutionArn=execution
        )["PipelineExecutionSteps"]
        assert [s["StepStatus"] for s in steps] == ["Failed"]
        assert start_token(pid) != token, "the orphaned step process was stopped"
        # a second local cloud on the same state folder is refused, in one line
        third = subprocess.run(
            [*UP, "--state-dir", str(state)],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert third.returncode == 4
        assert (
            third.stderr.strip()
            .splitlines()[-1]
            .startswith(
                f"error: state folder {state.resolve()} is in use by another local cloud (pid"
            )
        )
        assert "Traceback" not in third.stderr
    finally:
        second.stop()
