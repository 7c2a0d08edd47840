"""Container steps run under the runtime of the image their definition names.

The scikit-learn 1.2-1 image has Python 3.9, pandas 1.1.3 and no polars (nor batchops); a
step run by the local cloud sees exactly that, so code that needs a newer Python or a
package the image lacks fails here as it would in the SageMaker job.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from batchops.config import load_settings
from batchops.localcloud.executor.containers import runtimes
from batchops.pipelines.pycompat import problems

from .conftest import SKLEARN_IMAGE, processing_step, run_pipeline, s3_output

XGBOOST_IMAGE = "246618743249.dkr.ecr.us-west-2.amazonaws.com/sagemaker-xgboost:1.7-1"
CONTAINERS = Path(runtimes.__file__).resolve().parent


def _run(account, script: str, image: str = SKLEARN_IMAGE) -> tuple[dict[str, Any], Any, str]:  # type: ignore[no-untyped-def]
    """Run ``script`` as a one-step pipeline; (execution, s3 client, output prefix)."""
    settings = load_settings("data-science")
    clients = account("data-science")
    prefix = f"{settings.bucket_prefix}/runtime-test/{uuid.uuid4().hex}"
    out = f"s3://{settings.bucket_name}/{prefix}"
    step = processing_step(
        "Job",
        settings.role_arn,
        ["python3", "-c", script],
        image=image,
        outputs=[s3_output("out", out, "/opt/ml/processing/out")],
    )
    return run_pipeline(clients, [step]), clients.client("s3"), prefix


REPORT = (
    "import json, os, sys\n"
    "import pandas, numpy, sklearn\n"
    # the local cloud rewrites /opt/ml in a container's arguments to the job's folder
    "out = '/opt/ml/processing/out'\n"
    "os.makedirs(out, exist_ok=True)\n"
    "open(out + '/runtime.json', 'w').write(json.dumps({\n"
    "    'python': list(sys.version_info[:2]), 'pandas': pandas.__version__,\n"
    "    'numpy': numpy.__version__, 'sklearn': sklearn.__version__}))\n"
)


def test_a_step_on_the_sklearn_image_runs_python_3_9_with_the_images_packages(
    account, sklearn_image_python: Path
) -> None:
    described, s3, prefix = _run(account, REPORT)
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")
    settings = load_settings("data-science")
    body = s3.get_object(Bucket=settings.bucket_name, Key=f"{prefix}/runtime.json")["Body"]
    seen = json.loads(body.read())
    assert seen == {"python": [3, 9], "pandas": "1.1.3", "numpy": "1.24.1", "sklearn": "1.2.1"}


@pytest.mark.parametrize(
    ("script", "error"),
    [
        ("print(list(zip('ab', 'cd', strict=True)))\n", "zip() takes no keyword arguments"),
        ("match 1:\n    case 1:\n        pass\n", "SyntaxError"),
        ("import polars\n", "No module named 'polars'"),
        ("import batchops\n", "No module named 'batchops'"),
    ],
    ids=["zip-strict", "match", "polars", "batchops"],
)
def test_what_the_sklearn_image_does_not_have_fails_the_step(
    account, sklearn_image_python: Path, script: str, error: str
) -> None:
    described, _s3, _prefix = _run(account, script)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert error in described["FailureReason"], described["FailureReason"]


TAR_WITH_FILTER = (
    "import io, tarfile\n"
    "data = io.BytesIO()\n"
    "with tarfile.open(fileobj=data, mode='w') as tar:\n"
    "    tar.addfile(tarfile.TarInfo('empty'), io.BytesIO())\n"
    "data.seek(0)\n"
    "with tarfile.open(fileobj=data) as tar:\n"
    "    tar.extractall('/opt/ml/processing/out', filter='data')\n"
)


def test_extractall_filter_fails_on_the_xgboost_image_as_on_its_python_3_8_13(
    account, xgboost_image_python: Path
) -> None:
    """16's defect 5 (evaluate.py): the image's 3.8.13 predates the 3.8.17 backport of
    ``filter=``, although the machine's 3.8 has it."""
    described, _s3, _prefix = _run(account, TAR_WITH_FILTER, image=XGBOOST_IMAGE)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert "unexpected keyword argument 'filter'" in described["FailureReason"]
    described, _s3, _prefix = _run(
        account, TAR_WITH_FILTER.replace(", filter='data'", ""), image=XGBOOST_IMAGE
    )
    assert described["PipelineExecutionStatus"] == "Succeeded", described.get("FailureReason")


def test_an_unknown_image_fails_the_step_naming_it_and_the_known_images(account) -> None:
    described, _s3, _prefix = _run(account, "print('hi')\n", image="my-own-image:latest")
    assert described["PipelineExecutionStatus"] == "Failed"
    reason = described["FailureReason"]
    assert "'my-own-image:latest' is not one the local cloud knows" in reason, reason
    assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in reason
    assert "sagemaker-xgboost:1.7-1" in reason


def test_the_xgboost_image_runtime_is_python_3_8_with_xgboost_1_7(xgboost_image_python) -> None:  # type: ignore[no-untyped-def]
    runtime = runtimes.runtime_for(XGBOOST_IMAGE)
    assert runtime.name == "xgboost-1.7-1" and runtime.warning is None
    assert runtime.python == str(xgboost_image_python)
    import subprocess

    found = subprocess.run(
        [
            runtime.python,
            "-c",
            "import sys, xgboost; print(sys.version_info[:2], xgboost.__version__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == "(3, 8) 1.7.4"


def test_a_missing_runtime_falls_back_to_the_projects_python_with_a_warning(
    tmp_path: Path,
) -> None:
    runtime = runtimes.runtime_for(SKLEARN_IMAGE, {"image_runtimes_dir": str(tmp_path)})
    assert not runtime.is_image
    assert runtime.warning and runtime.warning.startswith("WARNING: no sklearn-1.2-1 runtime")
    assert "CPython 3.9" in runtime.warning and "project's Python" in runtime.warning


def test_the_fallback_warning_is_in_the_step_log(account, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BATCHOPS_IMAGE_RUNTIMES", str(tmp_path))
    token = uuid.uuid4().hex
    described, _s3, _prefix = _run(account, f"print('{token}')\n")
    assert described["PipelineExecutionStatus"] == "Succeeded"
    logs = account("data-science").client("logs")
    group = "/aws/sagemaker/ProcessingJobs"
    for stream in logs.describe_log_streams(logGroupName=group)["logStreams"]:
        events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])
        messages = [e["message"] for e in events["events"]]
        if token in messages:
            assert any(m.startswith("WARNING: no sklearn-1.2-1 runtime") for m in messages)
            return
    raise AssertionError("the step's log was not found")


def test_an_image_that_runs_no_project_code_has_the_executors_runtime() -> None:
    analyzer = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
    runtime = runtimes.runtime_for(analyzer)
    assert not runtime.is_image and runtime.warning is None


@pytest.mark.parametrize("name", ["zygote.py", "transform_host.py"])
def test_the_container_side_programs_keep_to_the_oldest_image_python(name: str) -> None:
    """They run under every image runtime (the XGBoost image's Python 3.8)."""
    source = (CONTAINERS / name).read_text(encoding="utf-8")
    assert problems(source, name, (3, 8)) == []
    assert "import batchops" not in source and "from batchops" not in source
