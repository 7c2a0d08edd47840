"""The container scripts, run as SageMaker would (a folder standing for /, plain python)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from batchops.data.generate import generate
from batchops.data.schema import Layout
from batchops.data.spec import current_spec

STEPS = Path(__file__).resolve().parents[1] / "steps"


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


def _input(root: Path, spec: Any = None) -> Path:
    """The data input folder, with the dataset spec document beside it (its own input)."""
    folder = root / "opt/ml/processing/input/data"
    folder.mkdir(parents=True)
    dataset = root / "opt/ml/processing/input/dataset"
    dataset.mkdir(parents=True)
    document = (spec or current_spec()).document(10.0)
    (dataset / "dataset.json").write_text(json.dumps(document))
    return folder


def test_preprocess_splits_and_saves_the_fitted_transform(tmp_path: Path) -> None:
    generated = generate(tmp_path / "gen", rows=400, seed=2)
    data = _input(tmp_path)
    (data / "training-data.csv").write_bytes(generated.files[Layout.TRAINING].read_bytes())
    done = _run("preprocess.py", tmp_path)
    assert done.returncode == 0, done.stderr
    base = tmp_path / "opt/ml/processing"
    counts = {
        s: len((base / s / f"{s}.csv").read_text().splitlines())
        for s in ("train", "validation", "test")
    }
    assert sum(counts.values()) == 400 and counts["test"] == 60 and counts["validation"] == 60
    transform = json.loads((base / "transform/transform.json").read_text())
    assert transform["columns"][0]["categories"] == ["M", "F", "I"]
    assert transform["output_columns"][:3] == ["sex_M", "sex_F", "sex_I"]
    train = np.loadtxt(base / "train/train.csv", delimiter=",")
    assert train.shape[1] == 1 + 3 + 7, "rings, one-hot sex, seven scaled measurements"
    assert abs(train[:, 4:].mean()) < 0.05, "measurements are standardised on the train split"
    baseline = (base / "baseline/training-data.csv").read_text().splitlines()
    assert len(baseline) == counts["train"] and len(baseline[0].split(",")) == 8


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\nF,0.4,0.3,0.1,0.5,0.2,0.1\n",
            "training-data.csv line 2: expected 9 columns (8 features, then rings), got 7",
        ),
        (
            "M,0.4,0.3,0.1,0.5,0.2,0.1,0.15,9\nM,0.4,abc,0.1,0.5,0.2,0.1,0.15,9\n",
            "training-data.csv line 2 column 3 (diameter): expected a number, got 'abc'",
        ),
    ],
)
def test_preprocess_bad_rows_fail_with_file_line_and_column(
    tmp_path: Path, content: str, expected: str
) -> None:
    (_input(tmp_path) / "training-data.csv").write_text(content)
    done = _run("preprocess.py", tmp_path)
    assert done.returncode == 1
    failure = (tmp_path / "opt/ml/output/failure").read_text()
    assert expected in failure


def test_preprocess_of_an_empty_prefix_says_so(tmp_path: Path) -> None:
    _input(tmp_path)
    done = _run("preprocess.py", tmp_path)
    assert done.returncode == 1
    assert "no *.csv file" in (tmp_path / "opt/ml/output/failure").read_text()


def test_inference_handler_applies_the_saved_transform(tmp_path: Path) -> None:
    import xgboost as xgb

    sys.path.insert(0, str(STEPS))
    try:
        import inference
    finally:
        sys.path.remove(str(STEPS))
    transform = TRANSFORM
    x = np.random.default_rng(0).normal(size=(50, 10))
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(x, label=x[:, 3] * 2), num_boost_round=5)
    booster.save_model(str(tmp_path / "xgboost-model.json"))
    (tmp_path / "transform.json").write_text(json.dumps(transform))
    model = inference.model_fn(str(tmp_path))
    rows = inference.input_fn("M,0.5,0.5,0.5,0.5,0.5,0.5,0.5\nI,0.6,0.5,0.5,0.5,0.5,0.5,0.5\n")
    body, content_type = inference.output_fn(inference.predict_fn(rows, model), "text/csv")
    assert content_type == "text/csv" and len(body.strip().splitlines()) == 2
    with pytest.raises(ValueError, match="record 1: expected 8 fields, got 9"):
        inference.predict_fn([["M"] + ["0.5"] * 8], model)


def _inference() -> object:
    sys.path.insert(0, str(STEPS))
    try:
        import inference
    finally:
        sys.path.remove(str(STEPS))
    return inference


MEAN = [0.52, 0.41, 0.14, 0.82, 0.34, 0.18, 0.25]
SCALE = [0.12, 0.097, 0.035, 0.52, 0.2, 0.11, 0.18]
#: an Abalone transform as preprocess.py writes it (the median imputes a missing value)
TRANSFORM = {
    "version": 2,
    "problem_type": "regression",
    "classes": None,
    "columns": [
        {"name": "sex", "type": "categorical", "encoding": "onehot",
         "categories": ["M", "F", "I"], "impute": "I"},
        *[
            {"name": f"m{i}", "type": "numeric", "mean": m, "scale": s, "impute": m + s / 2}
            for i, (m, s) in enumerate(zip(MEAN, SCALE, strict=True))
        ],
    ],
}  # fmt: skip


def test_inference_features_are_the_training_transform() -> None:
    inference: Any = _inference()
    rng = np.random.default_rng(1)
    sex = rng.choice(["M", "F", "I", " F", "I ", "X"], size=500)
    numeric = rng.uniform(0, 2, size=(500, 7)).round(4)
    body = "".join(f"{s},{','.join(map(str, row))}\n" for s, row in zip(sex, numeric, strict=True))
    matrix = inference.features(TRANSFORM, inference.input_fn(body, "text/csv"))
    stripped = np.char.strip(sex.astype(str))
    onehot = np.stack([stripped == c for c in ("M", "F", "I")], axis=1)
    scaled = (numeric - np.array(MEAN)) / np.array(SCALE)
    expected = np.hstack([onehot, scaled]).astype(np.float32)
    assert matrix.dtype == np.float32 and matrix.flags.c_contiguous
    np.testing.assert_array_equal(matrix, expected)  # bit for bit; "X" is all zeros
    rows = [[s, *map(str, row)] for s, row in zip(sex, numeric, strict=True)]
    np.testing.assert_array_equal(inference.features(TRANSFORM, rows), expected)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("M,1,2,3,4,5,6,7\nF,1,2,3,4,5,6\n", "record 2: expected 8 fields, got 7"),
        ("M,1,2,3,4,5,6,7\n\nF,1,2,3,4,5,6,7\n", "record 2: expected 8 fields, got 0"),
        ("M,1,2,3,4,5,6,7\nF,1,2,3,4,5,6,7,8\n", "record 2: expected 8 fields, got 9"),
        ("M,1,2,3,4,x,6,7\n", "not CSV with 8 fields"),
        ("M,1,2,3,4,5,6,7,8\n", "record 1: expected 8 fields, got 9"),
    ],
)
def test_inference_rejects_malformed_records(body: str, message: str) -> None:
    inference: Any = _inference()
    with pytest.raises(ValueError, match=message):
        inference.features(TRANSFORM, inference.input_fn(body, "text/csv"))


def test_inference_of_an_empty_payload_is_empty() -> None:
    inference: Any = _inference()
    rows = inference.input_fn("", "text/csv")
    assert inference.output_fn(inference.predict_fn(rows, None), "text/csv") == (b"", "text/csv")


def test_inference_output_is_exactly_percent_4f() -> None:
    inference: Any = _inference()
    rng = np.random.default_rng(2)
    values = [
        rng.normal(10, 3, 20_000).astype(np.float32),
        rng.normal(0, 1e-4, 1000).astype(np.float32),  # "-0.0000" and "0.0000"
        (np.arange(-20_000, 20_000) / 32).astype(np.float32),  # exact ties: to even
        np.array([0.0, -0.0, 0.99995, 9.99995, 99999.99995, -123456.789, 9.9e8], np.float32),
        np.array([1.5, np.nan, np.inf], np.float32),  # not finite: the plain path
        np.array([0.12345, 2.5, 1e12]),  # float64: the plain path
    ]
    for v in values:
        assert inference.format_predictions(v) == "".join(f"{x:.4f}\n" for x in v.tolist())


@pytest.mark.parametrize("accept", ["text/csv", "*/*", "text/csv; charset=utf-8"])
def test_inference_output_is_a_body_and_content_type_as_the_serving_container_expects(
    accept: str,
) -> None:
    """SageMaker's XGBoost container (sagemaker_inference Transformer) takes a
    ``(body, content type)`` tuple from output_fn and sets the response's Content-Type from
    it; a bare str would be sent as whatever the request's Accept was."""
    inference: Any = _inference()
    values = np.array([1.5, 10.25], np.float32)
    assert inference.output_fn(values, accept) == (b"1.5000\n10.2500\n", "text/csv")


def test_inference_refuses_an_accept_it_cannot_answer() -> None:
    inference: Any = _inference()
    with pytest.raises(ValueError, match="unsupported accept type 'application/json'"):
        inference.output_fn(np.array([1.0], np.float32), "application/json")


@pytest.mark.parametrize("member", ["../escape.txt", "/etc/evil", "link"])
def test_evaluate_refuses_a_model_archive_member_that_leaves_its_folder(
    tmp_path: Path, member: str
) -> None:
    """What ``extractall(filter="data")`` refuses, without it (Python 3.8.13 in the image)."""
    import io
    import tarfile

    model_dir = tmp_path / "opt/ml/processing/model"
    model_dir.mkdir(parents=True)
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = 2
            tar.addfile(info, io.BytesIO(b"hi"))
    done = _run("evaluate.py", tmp_path)
    assert done.returncode == 1
    assert f"refusing member {member.lstrip('/')!r}" in done.stderr or member in done.stderr
    assert not (tmp_path / "escape.txt").exists()


def test_evaluate_writes_the_engines_model_quality_statistics(tmp_path: Path) -> None:
    """The evaluate step as it ships (its step code archive) writes the engine's metrics."""
    import tarfile

    import xgboost as xgb

    from batchops.monitor.model_quality import regression_metrics
    from batchops.pipelines.step_code import step_code

    rng = np.random.default_rng(4)
    features = rng.normal(size=(300, 4))
    labels = features @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(0, 0.3, 300)
    booster = xgb.train({"max_depth": 2}, xgb.DMatrix(features, label=labels), num_boost_round=5)
    model_dir = tmp_path / "opt/ml/processing/model"
    model_dir.mkdir(parents=True)
    booster.save_model(str(tmp_path / "xgboost-model.json"))
    transform = {"problem_type": "regression", "classes": None}
    transform["dataset"] = current_spec().document(10.0)  # the model carries its spec
    (tmp_path / "transform.json").write_text(json.dumps(transform))
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "xgboost-model.json", arcname="xgboost-model.json")
        tar.add(tmp_path / "transform.json", arcname="transform.json")
    test = tmp_path / "opt/ml/processing/test"
    test.mkdir(parents=True)
    np.savetxt(test / "test.csv", np.column_stack([labels, features]), delimiter=",")
    archive = step_code(STEPS / "evaluate.py", tmp_path / "build")
    env = {**os.environ, "BATCHOPS_CONTAINER_ROOT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, archive], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "opt/ml/processing/evaluation/evaluation.json").read_text())
    data = np.loadtxt(test / "test.csv", delimiter=",")
    expected = regression_metrics(booster.predict(xgb.DMatrix(data[:, 1:])), data[:, 0])
    assert report["dataset"]["item_count"] == 300
    for name, value in expected.values.items():
        assert report["regression_metrics"][name]["value"] == pytest.approx(value, rel=1e-6)
        assert report["regression_metrics"][name]["standard_deviation"] == pytest.approx(
            expected.standard_deviations[name], rel=1e-6
        )


def test_evaluate_of_a_binary_classifier_writes_its_block_and_verdict(tmp_path: Path) -> None:
    """A binary model (breast-cancer spec): F1 of the positive class, the gate's verdict."""
    import tarfile

    import xgboost as xgb
    from sklearn import metrics as sk

    from batchops.data.spec import load_spec
    from batchops.pipelines.step_code import step_code

    spec = load_spec(STEPS.parents[1] / "examples/datasets/breast-cancer/dataset.yaml")
    rng = np.random.default_rng(5)
    features = rng.normal(size=(400, 3))
    labels = (features[:, 0] + rng.normal(0, 0.8, 400) > 0.3).astype(float)
    params = {"max_depth": 2, "objective": "binary:logistic"}
    booster = xgb.train(params, xgb.DMatrix(features, label=labels), num_boost_round=8)
    booster.save_model(str(tmp_path / "xgboost-model.json"))
    classes = ["benign", "malignant"]
    transform = {"problem_type": spec.problem_type, "classes": classes, "dataset": spec.document()}
    (tmp_path / "transform.json").write_text(json.dumps(transform))
    model_dir = tmp_path / "opt/ml/processing/model"
    model_dir.mkdir(parents=True)
    with tarfile.open(model_dir / "model.tar.gz", "w:gz") as tar:
        for name in ("xgboost-model.json", "transform.json"):
            tar.add(tmp_path / name, arcname=name)
    test = tmp_path / "opt/ml/processing/test"
    test.mkdir(parents=True)
    np.savetxt(test / "test.csv", np.column_stack([labels, features]), delimiter=",")
    archive = step_code(STEPS / "evaluate.py", tmp_path / "build")
    env = {**os.environ, "BATCHOPS_CONTAINER_ROOT": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, archive, "--threshold", "0.85"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = tmp_path / "opt/ml/processing/evaluation"
    block = json.loads((out / "evaluation.json").read_text())["binary_classification_metrics"]
    predicted = booster.predict(xgb.DMatrix(features)) >= 0.5
    f1 = sk.f1_score(labels.astype(bool), predicted)
    assert block["f1"]["value"] == pytest.approx(f1)
    assert set(block["confusion_matrix"]) == {"benign", "malignant"}
    verdict = json.loads((out / "quality.json").read_text())
    assert verdict["metric"] == "f1" and verdict["passed"] == (f1 >= 0.85)
    assert verdict["threshold"] == 0.85 and verdict["higher_is_better"] is True
