"""The data-quality Processing job as it ships (its step code archive), under the scikit-learn
1.2-1 image's runtime — Python 3.9, numpy 1.24.1, pandas 1.1.3, no polars, no batchops —
with the polars wheels the pipeline ships as the job's ``wheels`` input; and its bad input.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from batchops.pipelines.data_quality import step_wheels
from batchops.pipelines.step_code import build_archive, step_code

from .conftest import DATA, Abalone, inference_batch

JOB = Path(__file__).resolve().parents[2] / "src/batchops/monitor/job.py"
VERSION = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/3"
REGISTERED = "s3://batchops-data-science-111111111111/p/training/runs/e1/data-quality-baseline"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> str:
    return step_code(JOB, tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def wheels() -> Path:
    return step_wheels("sklearn-1.2-1")


def _job(
    python: str, archive: str, root: Path, *args: str, wheel_cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the job the way the container does: ``python3 <code>/job.pyz <arguments>``,
    with ``/opt/ml`` under ``root`` and only what a container environment has (and the local
    cloud's unpack cache when ``wheel_cache`` is given)."""
    env = {"PATH": os.environ["PATH"], "BATCHOPS_CONTAINER_ROOT": str(root), "HOME": str(root)}
    if wheel_cache is not None:
        env["BATCHOPS_LOCAL_WHEEL_CACHE"] = str(wheel_cache)
    return subprocess.run(
        [python, archive, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _stage(root: Path, folder: str, *files: Path) -> None:
    target = root / f"opt/ml/processing/{folder}"
    target.mkdir(parents=True, exist_ok=True)
    for file in files:
        (target / file.name).write_bytes(file.read_bytes())


def _check_args(statistics: str = "statistics.json", constraints: str = "constraints.json"):  # type: ignore[no-untyped-def]
    return (
        "--mode",
        "check",
        "--baseline-statistics",
        f"{REGISTERED}/{statistics}",
        "--baseline-constraints",
        f"{REGISTERED}/{constraints}",
        "--model-package-arn",
        VERSION,
    )


@pytest.fixture(params=["sklearn-1.2-1 image", "project"])
def runtime(request: pytest.FixtureRequest) -> str:
    if request.param == "project":
        return sys.executable
    return str(request.getfixturevalue("sklearn_image_python"))


def test_baseline_then_check_flag_the_drift_in_both_runtimes(
    runtime: str, archive: str, wheels: Path, abalone: Abalone, tmp_path: Path
) -> None:
    base, check = tmp_path / "base", tmp_path / "check"
    _stage(base, "input/baseline_dataset_input", abalone.data)
    _stage(base, "input/wheels", *wheels.glob("*.whl"))
    done = _job(runtime, archive, base, "--mode", "baseline")
    assert done.returncode == 0, done.stderr
    written = base / "opt/ml/processing/output"
    assert {p.name for p in written.iterdir()} == {"statistics.json", "constraints.json"}

    drifted = inference_batch(tmp_path / "drifted", seed=4, drift="height*1.6")
    _stage(check, "input/baseline_dataset_input", drifted)
    _stage(check, "baseline", written / "statistics.json", written / "constraints.json")
    _stage(check, "input/wheels", *wheels.glob("*.whl"))
    done = _job(runtime, archive, check, *_check_args())
    assert done.returncode == 0, done.stderr  # violations warn, they never fail the job
    out = check / "opt/ml/processing/output"
    assert {p.name for p in out.iterdir()} == {
        "statistics.json",
        "constraints.json",
        "constraint_violations.json",
    }
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    assert {(v["feature_name"], v["constraint_check_type"]) for v in violations} == {
        ("_c3", "baseline_drift_check")
    }
    if runtime != sys.executable:
        assert "on Python 3.9." in done.stdout
        assert "polars 1.36.1 from the shipped wheels" in done.stdout
        assert "unpacked into a temporary folder" in done.stdout  # as on SageMaker
        assert not (check / "opt/ml/output/failure").exists()


def test_the_local_unpack_cache_is_filled_once_then_reused_for_the_same_wheels(
    sklearn_image_python: Path, archive: str, wheels: Path, abalone: Abalone, tmp_path: Path
) -> None:
    """The local cloud's cache (``BATCHOPS_LOCAL_WHEEL_CACHE``): keyed by the sha256 of the
    wheels the job received, so other bytes are never served from it."""
    cache = tmp_path / "cache"
    outputs = []
    for run in ("first", "second"):
        root = tmp_path / run
        _stage(root, "input/baseline_dataset_input", abalone.data)
        _stage(root, "input/wheels", *wheels.glob("*.whl"))
        done = _job(
            str(sklearn_image_python), archive, root, "--mode", "baseline", wheel_cache=cache
        )
        assert done.returncode == 0, done.stderr
        assert "polars 1.36.1 from the shipped wheels" in done.stdout
        outputs.append((root / "opt/ml/processing/output/statistics.json").read_text())
        verb = "filled" if run == "first" else "reused"
        assert "unpack cache " in done.stdout and f" {verb})" in done.stdout, done.stdout
    assert outputs[0] == outputs[1]
    (tree,) = [p for p in cache.iterdir() if not p.name.startswith(".")]
    assert (tree / ".complete").read_text() == tree.name  # named by the content's sha256
    assert next(tree.rglob("polars/__pycache__/*.cpython-39.pyc"), None)  # compiled once

    # other wheel bytes (same names) are another key: unpacked anew, the tree above untouched
    root = tmp_path / "other"
    _stage(root, "input/baseline_dataset_input", abalone.data)
    _stage(root, "input/wheels", *wheels.glob("*.whl"))
    extra = root / "opt/ml/processing/input/wheels/zz_empty-0.0-py3-none-any.whl"
    with zipfile.ZipFile(extra, "w") as archive_file:
        archive_file.writestr("zz_empty/__init__.py", "")
    done = _job(str(sklearn_image_python), archive, root, "--mode", "baseline", wheel_cache=cache)
    assert done.returncode == 0, done.stderr
    assert " filled)" in done.stdout
    assert len([p for p in cache.iterdir() if not p.name.startswith(".")]) == 2


def test_the_image_runtime_writes_what_the_project_runtime_writes(
    sklearn_image_python: Path, archive: str, wheels: Path, abalone: Abalone, tmp_path: Path
) -> None:
    """polars 1.36.1 on Python 3.9 vs the project's polars: the same baseline."""
    results = {}
    for name, python in (("image", str(sklearn_image_python)), ("project", sys.executable)):
        root = tmp_path / name
        _stage(root, "input/baseline_dataset_input", abalone.data)
        _stage(root, "input/wheels", *wheels.glob("*.whl"))
        assert _job(python, archive, root, "--mode", "baseline").returncode == 0
        out = root / "opt/ml/processing/output"
        results[name] = {
            f: json.loads((out / f).read_text()) for f in ("statistics.json", "constraints.json")
        }
    assert results["image"]["constraints.json"] == results["project"]["constraints.json"]
    image, project = (results[n]["statistics.json"] for n in ("image", "project"))
    assert image["dataset"] == project["dataset"]
    for ours, theirs in zip(image["features"], project["features"], strict=True):
        assert ours["inferred_type"] == theirs["inferred_type"]
        numbers = ours.get("numerical_statistics")
        if numbers:
            other = theirs["numerical_statistics"]
            for key in ("mean", "sum", "std_dev", "min", "max"):
                assert numbers[key] == pytest.approx(other[key], rel=1e-9), (ours["name"], key)
            assert (
                numbers["distribution"]["kll"]["sketch"] == other["distribution"]["kll"]["sketch"]
            )
        else:
            assert ours["string_statistics"] == theirs["string_statistics"]


def test_an_aws_written_baseline_is_read_under_the_image_runtime(
    sklearn_image_python: Path, archive: str, wheels: Path, tmp_path: Path
) -> None:
    """Interchange: files in the layout AWS's analyzer writes, checked by the shipped job."""
    batch = tmp_path / "batch.csv"
    batch.write_text("".join(f"X,{0.3 + i % 5 * 0.1:.4f},{8 + i % 3}\n" for i in range(500)))
    _stage(tmp_path, "input/baseline_dataset_input", batch)
    _stage(tmp_path, "input/wheels", *wheels.glob("*.whl"))
    baseline = tmp_path / "opt/ml/processing/baseline"
    baseline.mkdir(parents=True)
    (baseline / "statistics.json").write_bytes((DATA / "aws-statistics.json").read_bytes())
    (baseline / "constraints.json").write_bytes((DATA / "aws-constraints.json").read_bytes())
    done = _job(str(sklearn_image_python), archive, tmp_path, *_check_args())
    assert done.returncode == 0, done.stderr
    report = tmp_path / "opt/ml/processing/output/constraint_violations.json"
    found = {
        (v["feature_name"], v["constraint_check_type"])
        for v in json.loads(report.read_text())["violations"]
    }
    assert ("_c0", "categorical_values_check") in found


# ----- bad input ------------------------------------------------------------------------------
def test_a_baseline_file_missing_from_the_registered_version_fails_naming_both(
    sklearn_image_python: Path, archive: str, wheels: Path, abalone: Abalone, tmp_path: Path
) -> None:
    _stage(tmp_path, "input/baseline_dataset_input", abalone.data)
    _stage(tmp_path, "input/wheels", *wheels.glob("*.whl"))
    _stage(tmp_path, "baseline", abalone.constraints)  # statistics.json is not there
    done = _job(str(sklearn_image_python), archive, tmp_path, *_check_args())
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert VERSION in failure and f"{REGISTERED}/statistics.json" in failure
    assert "holds: constraints.json" in failure and "\n" not in failure
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "opt/ml/processing/output").exists()


def test_constraints_of_a_newer_engine_are_refused_naming_both_versions(
    sklearn_image_python: Path, archive: str, wheels: Path, abalone: Abalone, tmp_path: Path
) -> None:
    newer = json.loads(abalone.constraints.read_text())
    newer["version"] = 1.0
    folder = tmp_path / "newer"
    folder.mkdir()
    (folder / "constraints.json").write_text(json.dumps(newer))
    _stage(tmp_path, "input/baseline_dataset_input", abalone.data)
    _stage(tmp_path, "input/wheels", *wheels.glob("*.whl"))
    _stage(tmp_path, "baseline", abalone.statistics, folder / "constraints.json")
    done = _job(str(sklearn_image_python), archive, tmp_path, *_check_args())
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "constraints.json" in failure
    assert "format version 1" in failure and "reads format version 0" in failure
    assert "batchops 0." in failure and "Traceback" not in done.stderr


@pytest.mark.parametrize("batch", ["empty file", "no file with a row"])
def test_an_empty_batch_is_a_violation_report_not_a_crash(
    sklearn_image_python: Path,
    archive: str,
    wheels: Path,
    abalone: Abalone,
    tmp_path: Path,
    batch: str,
) -> None:
    data = tmp_path / "opt/ml/processing/input/baseline_dataset_input"
    data.mkdir(parents=True)
    (data / "inference-data.csv").write_text("")
    if batch == "no file with a row":
        (data / "part-00001.csv").write_text("")
    _stage(tmp_path, "input/wheels", *wheels.glob("*.whl"))
    _stage(tmp_path, "baseline", abalone.statistics, abalone.constraints)
    done = _job(str(sklearn_image_python), archive, tmp_path, *_check_args())
    assert done.returncode == 0, done.stderr
    out = tmp_path / "opt/ml/processing/output"
    violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
    assert [v["feature_name"] for v in violations] == [f"_c{i}" for i in range(8)]
    assert {v["constraint_check_type"] for v in violations} == {"completeness_check"}
    assert "the batch has no rows" in violations[0]["description"]
    assert json.loads((out / "statistics.json").read_text())["dataset"]["item_count"] == 0


def test_without_polars_and_without_wheels_the_job_says_what_is_missing(
    sklearn_image_python: Path, archive: str, abalone: Abalone, tmp_path: Path
) -> None:
    _stage(tmp_path, "input/baseline_dataset_input", abalone.data)
    done = _job(str(sklearn_image_python), archive, tmp_path, "--mode", "baseline")
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert "polars is not installed in this image and no wheels were shipped" in failure


def test_the_job_archive_carries_the_engine_and_no_polars() -> None:
    from batchops.pipelines.step_code import archive_files

    files = archive_files(JOB)
    assert {"batchops/monitor/dataquality.py", "batchops/monitor/kll.py", "job.py"} <= set(files)
    assert not [name for name in files if "polars" in name]
    assert build_archive(JOB) == build_archive(JOB)
