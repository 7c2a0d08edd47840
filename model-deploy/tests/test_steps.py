"""The inference pipeline's container scripts, run as SageMaker would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from sklearn import metrics as sk

from batchops.data.spec import load_spec

STEPS = Path(__file__).resolve().parents[1] / "steps"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "datasets"


def _run(script: str, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BATCHOPS_CONTAINER_ROOT": str(root)}
    return subprocess.run(
        [sys.executable, str(STEPS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _model(
    root: Path, example: str, classes: list[str] | None, categories: dict | None = None
) -> dict:
    """A model.tar.gz in the model input holding the dataset and transform documents."""
    spec = load_spec(EXAMPLES / example / "dataset.yaml")
    dataset = dict(spec.document(10.0), classes=classes)
    columns = []
    for feature in spec.features:
        if feature.categorical:
            known = (categories or {}).get(feature.name, list(feature.categories or ()))
            columns.append({"name": feature.name, "type": "categorical", "encoding": "onehot",
                            "categories": known, "impute": known[0]})  # fmt: skip
        else:
            columns.append(
                {"name": feature.name, "type": "numeric", "mean": 0, "scale": 1, "impute": 0}
            )
    transform = {
        "version": 2,
        "problem_type": spec.problem_type,
        "columns": columns,
        "classes": classes,
    }
    folder = root / "opt/ml/processing/input/model"
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "model.tar.gz", "w:gz") as tar:
        for name, document in (("dataset.json", dataset), ("transform.json", transform)):
            body = json.dumps(document).encode()
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return dataset


def _quality(
    tmp_path: Path, lines: list[str], truth: list[str], threshold: str, python: str = ""
) -> subprocess.CompletedProcess[str]:
    """The model-quality step as it ships (its step code archive), run by ``python``."""
    from batchops.pipelines.step_code import step_code

    base = tmp_path / "opt/ml/processing"
    (base / "predictions").mkdir(parents=True)
    (base / "ground_truth").mkdir(parents=True)
    (base / "predictions/inference-data.csv.out").write_text("".join(f"{line}\n" for line in lines))
    (base / "ground_truth/ground-truth.csv").write_text("".join(f"{t}\n" for t in truth))
    archive = step_code(STEPS / "model_quality.py", tmp_path / "build")
    env = {"PATH": os.environ["PATH"], "BATCHOPS_CONTAINER_ROOT": str(tmp_path)}
    return subprocess.run(
        [python or sys.executable, archive, "--threshold", threshold],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(params=["project", "sklearn-1.2-1 image"])
def runtime(request: pytest.FixtureRequest) -> str:
    """The project's Python, and the scikit-learn image's (Python 3.9, numpy 1.24.1, no
    batchops installed): the step code must carry what it needs."""
    if request.param == "project":
        return sys.executable
    return str(request.getfixturevalue("sklearn_image_python"))


def _read(tmp_path: Path, name: str) -> Any:
    return json.loads((tmp_path / "opt/ml/processing/model_quality" / name).read_text())


def test_model_quality_passes_under_the_threshold(tmp_path: Path, runtime: str) -> None:
    _model(tmp_path, "abalone", None)
    lines = [f"M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,{p}" for p in (10.0, 8.0, 6.0)]
    done = _quality(tmp_path, lines, ["11", "8", "5"], "10", runtime)
    assert done.returncode == 0, done.stderr
    stats = _read(tmp_path, "statistics.json")
    assert abs(stats["regression_metrics"]["mse"]["value"] - 2 / 3) < 1e-9
    verdict = _read(tmp_path, "quality.json")
    assert verdict["metric"] == "mse" and verdict["passed"] is True and verdict["threshold"] == 10
    assert _read(tmp_path, "constraint_violations.json") == {"violations": []}


def test_model_quality_fails_over_the_threshold_with_mse_and_threshold(
    tmp_path: Path, runtime: str
) -> None:
    _model(tmp_path, "abalone", None)
    lines = [f"M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,{p}" for p in (10.0, 8.0)]
    done = _quality(tmp_path, lines, ["20", "18"], "10", runtime)
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert (
        failure == "model quality below threshold: mse 100.0000 > accuracy_mse_threshold 10"
        " on 2 labelled rows"
    )


def test_binary_model_quality_is_f1_of_the_positive_class_and_fails_below(
    tmp_path: Path, runtime: str
) -> None:
    _model(tmp_path, "breast-cancer", ["benign", "malignant"])
    predicted = ["malignant", "benign", "malignant", "benign", "benign", "malignant"]
    scores = [0.9, 0.2, 0.7, 0.4, 0.1, 0.6]
    truth = ["malignant", "malignant", "benign", "benign", "benign", "malignant"]
    lines = [f"{','.join(['1'] * 30)},{p},{s}" for p, s in zip(predicted, scores, strict=True)]
    done = _quality(tmp_path, lines, truth, "0.85", runtime)
    assert done.returncode == 1
    f1 = sk.f1_score(truth, predicted, pos_label="malignant")
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert (
        failure == f"model quality below threshold: f1 {f1:.4f} < threshold 0.85 on 6 labelled rows"
    )
    block = _read(tmp_path, "statistics.json")["binary_classification_metrics"]
    assert block["f1"]["value"] == pytest.approx(f1)
    assert block["auc"]["value"] == pytest.approx(
        sk.roc_auc_score([t == "malignant" for t in truth], scores)
    )
    constraints = _read(tmp_path, "constraints.json")
    assert constraints["binary_classification_constraints"] == {
        "f1": {"threshold": 0.85, "comparison_operator": "LessThanThreshold"}
    }
    (violation,) = _read(tmp_path, "constraint_violations.json")["violations"]
    assert (
        violation["metric_name"] == "f1"
        and violation["constraint_check_type"] == "LessThanThreshold"
    )


def test_multiclass_model_quality_reports_an_empty_class_and_passes(
    tmp_path: Path, runtime: str
) -> None:
    classes = ["cultivar_1", "cultivar_2", "cultivar_3"]
    _model(tmp_path, "wine", classes)
    truth = ["cultivar_1", "cultivar_2", "cultivar_1", "cultivar_2"]
    lines = [f"{','.join(['1'] * 13)},{t}" for t in truth]
    done = _quality(tmp_path, lines, truth, "0.8", runtime)
    assert done.returncode == 0, done.stderr
    assert "class 'cultivar_3' has no row in the ground truth" in done.stderr
    block = _read(tmp_path, "statistics.json")["multiclass_classification_metrics"]
    assert block["macro_f1"]["value"] == 1.0
    assert block["classes_without_ground_truth"] == ["cultivar_3"]
    assert _read(tmp_path, "quality.json")["metric"] == "f1_macro"


def test_model_quality_bad_label_is_one_line_naming_file_and_line(
    tmp_path: Path, runtime: str
) -> None:
    _model(tmp_path, "abalone", None)
    lines = [f"M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,{p}" for p in (10.0, 8.0)]
    done = _quality(tmp_path, lines, ["11", "nan"], "10", runtime)
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert failure == "ground-truth.csv line 2: the label 'nan' is not a finite number"
    assert "Traceback" not in done.stderr


def test_unseen_categories_and_missing_values_are_counted_not_fatal(tmp_path: Path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "preprocess_inference", STEPS / "preprocess_inference.py"
    )
    assert spec is not None and spec.loader is not None
    step: Any = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step)
    _model(tmp_path, "abalone", None)
    dataset, transform = step.model_files(tmp_path / "opt/ml/processing/input/model")
    batch = tmp_path / "inference-data.csv"
    batch.write_text(
        "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15\nX,0.4,,0.1,0.5,0.2,0.1,0.15\nQ,0.4,,0.1,0.5,0.2,0.1,\n"
    )
    report = step.check_batch(batch, dataset, transform, tmp_path / "copy.csv")
    assert report == {
        "rows": 3,
        "missing": {"diameter": 2, "shell_weight": 1},
        "unseen": {"sex": {"X": 1, "Q": 1}},
    }
    assert (tmp_path / "copy.csv").read_text().count("\n") == 3
