"""PreprocessInference chooses, claims and reads its batch in S3, as it does on AWS.

The step runs as it ships (its step-code archive, with ``batchops.batches``) against the
staging account of the local cloud, with the credentials a job would have.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from batchops.config import load_settings
from batchops.kms import key_arn
from batchops.pipelines.step_code import step_code

STEPS = Path(__file__).resolve().parents[2] / "model-deploy" / "steps"
ROW = "M,0.455,0.365,0.095,0.514,0.2245,0.101,0.15\n"


@pytest.fixture()
def staging(cloud, account, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = load_settings("staging")
    clients = account("staging")
    credentials = clients.session().get_credentials().get_frozen_credentials()
    # a prefix of its own per test: batches of other tests never interfere
    prefix = f"{settings.bucket_prefix}/it-{uuid.uuid4().hex[:8]}/"
    archive = step_code(STEPS / "preprocess_inference.py", tmp_path / "build")

    def put(key: str, body: str) -> None:
        clients.client("s3").put_object(
            Bucket=settings.bucket_name, Key=prefix + key, Body=body.encode()
        )

    def run(
        input_key: str, execution: str = "exec-1"
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        root = tmp_path / execution
        pinned_model(root / "opt/ml/processing/input/model")
        env = {
            **os.environ,
            "BATCHOPS_CONTAINER_ROOT": str(root),
            "AWS_ENDPOINT_URL": cloud.endpoint,
            "AWS_DEFAULT_REGION": settings.region,
            "AWS_ACCESS_KEY_ID": credentials.access_key,
            "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            **({"AWS_SESSION_TOKEN": credentials.token} if credentials.token else {}),
        }
        done = subprocess.run(
            [sys.executable, str(archive),
             "--input-uri", f"s3://{settings.bucket_name}/{input_key}",
             "--inference-prefix", prefix + "raw/",
             "--claims-prefix", prefix + "claims/",
             "--execution-id", execution,
             "--kms-key-id", key_arn(clients, settings)],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        return done, root / "opt/ml/processing"

    return settings, prefix, put, run


def pinned_model(folder: Path) -> None:
    """The pinned model input: a model.tar.gz carrying the Abalone spec and its transform."""
    import io
    import tarfile

    from batchops.data.spec import current_spec

    spec = current_spec()
    sex = {"name": "sex", "type": "categorical", "encoding": "onehot",
           "categories": ["M", "F", "I"], "impute": "M"}  # fmt: skip
    numeric = [
        {"name": f.name, "type": "numeric", "mean": 0, "scale": 1, "impute": 0}
        for f in spec.features[1:]
    ]
    documents = {
        "dataset.json": dict(spec.document(10.0), classes=None),
        "transform.json": {"problem_type": "regression", "columns": [sex, *numeric]},
    }
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "model.tar.gz", "w:gz") as tar:
        for name, document in documents.items():
            body = json.dumps(document).encode()
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))


def _failure(base: Path) -> str:
    return (base.parent / "output/failure").read_text()


def test_every_file_of_a_batch_is_scored_in_key_order(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put("raw/b1/inference-data-0001.csv", ROW * 2)
    put("raw/b1/inference-data-0002.csv", ROW.replace("M,", "F,") * 3)
    put("raw/b1/ground-truth-0001.csv", "9\n10\n")
    put("raw/b1/ground-truth-0002.csv", "11\n12\n13\n")
    put("raw/b1/inference-data.csv", ROW.replace("M,", "I,"))
    put("raw/b1/ground-truth.csv", "7\n")
    done, base = run(prefix + "raw/b1/inference-data.csv")
    assert done.returncode == 0, done.stderr
    scored = (base / "batch/inference-data.csv").read_text().splitlines()
    assert [line[0] for line in scored] == ["M", "M", "F", "F", "F", "I"]
    truth = (base / "ground_truth/ground-truth.csv").read_text().split()
    assert truth == ["9", "10", "11", "12", "13", "7"]
    status = json.loads((base / "status/ground_truth.json").read_text())
    assert status["present"] is True and status["rows"] == 6 and len(status["files"]) == 6


def test_a_batch_is_scored_once_whoever_starts_the_run(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put("raw/b1/inference-data.csv", ROW)
    first, _ = run(prefix + "raw/b1/inference-data.csv", "exec-event")
    assert first.returncode == 0, first.stderr
    again, base = run(prefix + "raw/b1/inference-data.csv", "exec-redelivered")
    assert again.returncode == 1
    assert "is already scored by execution exec-event" in _failure(base)


def test_a_run_without_a_batch_scores_the_newest_one_not_yet_scored(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put("raw/old/inference-data.csv", ROW)
    time.sleep(1.1)  # S3's LastModified has whole seconds
    put("raw/new/inference-data.csv", ROW * 2)
    done, base = run(prefix + "raw/", "exec-schedule-1")
    assert done.returncode == 0, done.stderr
    assert json.loads((base / "status/ground_truth.json").read_text())["batch"].endswith(
        "/raw/new/"
    )
    done, base = run(prefix + "raw/", "exec-schedule-2")
    assert done.returncode == 0, done.stderr
    assert json.loads((base / "status/ground_truth.json").read_text())["batch"].endswith(
        "/raw/old/"
    )
    done, base = run(prefix + "raw/", "exec-schedule-3")
    assert done.returncode == 1
    assert _failure(base).startswith("nothing to score: every batch under")


def test_a_training_layout_file_is_refused_as_an_inference_batch(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put("raw/b1/inference-data.csv", "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\n")
    done, base = run(prefix + "raw/b1/inference-data.csv")
    assert done.returncode == 1
    assert "line 1: 9 columns — this is the training layout (with rings)" in _failure(base)


def test_a_non_numeric_measurement_names_file_line_and_column(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put(
        "raw/b1/inference-data.csv",
        "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15\nF,0.4,0.3,n/a,0.5,0.2,0.1,0.15\n",
    )
    done, base = run(prefix + "raw/b1/inference-data.csv")
    assert done.returncode == 1
    assert "inference-data.csv line 2 column 4 (height): expected a number, got 'n/a'" in (
        _failure(base)
    )


def test_ground_truth_with_another_row_count_fails_with_both_counts(staging) -> None:  # type: ignore[no-untyped-def]
    _settings, prefix, put, run = staging
    put("raw/b1/ground-truth.csv", "9\n10\n11\n")
    put("raw/b1/inference-data.csv", ROW * 2)
    done, base = run(prefix + "raw/b1/inference-data.csv")
    assert done.returncode == 1, done.stderr
    assert _failure(base) == (
        "ground truth has 3 rows but the batch's inference files have 2: "
        "one label per inference row is needed"
    )
