"""A new user's inference run, with the commands the README gives, on the local cloud.

``batchops data upload --env staging --inference … --ground-truth …`` lands a batch (its
event starts the pipeline); ``batchops pipelines start inference --env staging --wait``
then scores the newest batch — here by following the run the upload started — and ends
``Succeeded``. Before, the run without an event looked for ``<prefix>inference-data.csv``
under a doubled prefix and found no data.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from batchops import registry
from batchops.config import load_settings
from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.pipelines import deploy as pipelines
from batchops.pipelines.build import build
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow


def _batchops(cloud, *args: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "BATCHOPS_ENDPOINT": cloud.endpoint}
    return subprocess.run(
        [sys.executable, "-m", "batchops", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def deployed(cloud, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A trained, approved version deployed to staging."""
    from batchops.aws import clients_for
    from batchops.deploy import deploy

    settings = load_settings("data-science")
    clients = clients_for(settings, cloud.endpoint)
    proj = project("model-build")
    pipelines.upsert(clients, settings, build(proj, proj.spec("training"), settings))
    data = generate(tmp_path_factory.mktemp("train"), rows=600, seed=5)
    key = f"{settings.bucket_prefix}/it-cli/train.csv"  # not under the training trigger
    clients.client("s3").put_object(
        Bucket=settings.bucket_name, Key=key, Body=data.files[Layout.TRAINING].read_bytes()
    )
    arn = pipelines.start(
        clients, settings.pipeline_train, {"InputBucket": settings.bucket_name, "InputKey": key}
    )
    assert pipelines.wait(clients, arn, timeout_s=600)["PipelineExecutionStatus"] == "Succeeded"
    version = registry.list_versions(clients, settings)[-1]
    registry.approve(clients, settings, version.version, note="test")
    with pytest.MonkeyPatch.context() as patch:  # the GitOps record goes to a scratch folder
        patch.setenv("BATCHOPS_ENVIRONMENTS_DIR", str(tmp_path_factory.mktemp("environments")))
        return deploy("staging", version.arn, endpoint=cloud.endpoint, actor="test")


def test_upload_then_start_inference_scores_the_batch(  # type: ignore[no-untyped-def]
    cloud, deployed, tmp_path: Path
) -> None:
    files = generate(tmp_path, rows=200, seed=6).files
    upload = _batchops(
        cloud, "data", "upload", "--env", "staging",
        "--inference", str(files[Layout.INFERENCE]),
        "--ground-truth", str(files[Layout.GROUND_TRUTH]),
    )  # fmt: skip
    assert upload.returncode == 0, upload.stderr
    started = _batchops(cloud, "pipelines", "start", "inference", "--env", "staging", "--wait")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "Succeeded: batchops-inference" in started.stdout
    assert "no S3 objects" not in started.stderr
