"""Evaluate step (processing container): model quality on the test split.

Reads the model (``model.tar.gz``: the booster, ``transform.json`` with the dataset spec
and the classes) and the test split (label first, then the transformed features), and
writes Model Monitor's model-quality statistics for the problem type —
``regression_metrics``, ``binary_classification_metrics`` or
``multiclass_classification_metrics`` — as ``evaluation.json``, which SageMaker's model
registry displays and the pipeline's gate reads through a PropertyFile. ``quality.json``
beside it is the verdict in the lifecycle contract's form (``metric``, ``value``,
``threshold``, ``passed``). The metrics are batchops' one model-quality implementation
(``batchops.monitor``).

Binary classification predicts the positive class when its probability is at least 0.5
(the handler's rule); multiclass the most probable class.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from batchops.errors import DataError
from batchops.monitor.quality_gate import evaluate_batch

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
EVALUATION_FILE = "evaluation.json"  # batchops.lifecycle.EVALUATION_FILE
VERDICT_FILE = "quality.json"  # batchops.lifecycle.VERDICT_FILE


def fail(message: str) -> None:
    out = Path(f"{ROOT}/opt/ml/output")
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def predictions(transform: dict[str, Any], booster: Any, data: np.ndarray) -> tuple:
    """(truth, predicted, positive-class score or None) of the booster on ``data``."""
    predicted = booster.predict(xgb.DMatrix(data[:, 1:]))
    problem = transform.get("problem_type", "regression")
    if problem == "regression":
        return data[:, 0], predicted, None
    classes = np.array(transform["classes"], dtype=object)
    truth = classes[data[:, 0].astype(np.int64)]
    if problem == "binary_classification":
        score = np.asarray(predicted, dtype=np.float64).ravel()
        return truth, classes[(score >= 0.5).astype(np.int64)], score
    matrix = np.asarray(predicted).reshape(len(data), -1)
    return truth, classes[np.argmax(matrix, axis=1)], None


def safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """The archive's files and folders, refusing links and paths that leave the folder.

    ``extractall(filter="data")`` does this on Python 3.12 (3.8.17+ as a backport), but the
    XGBoost 1.7-1 image runs 3.8.13, so the check is written out.
    """
    members = tar.getmembers()
    for member in members:
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
            print(f"{archive}: refusing member {member.name!r}", file=sys.stderr)
            sys.exit(1)
    return members


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args(argv)
    model_dir = BASE / "model"
    archive = model_dir / "model.tar.gz"
    if not archive.is_file():
        fail(f"no model.tar.gz in {model_dir}")
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, members=safe_members(tar, archive))
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model.json"))
    transform = json.loads((model_dir / "transform.json").read_text(encoding="utf-8"))
    files = sorted((BASE / "test").rglob("*.csv"))
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    dataset = dict(transform["dataset"], classes=transform.get("classes"))
    threshold = args.threshold if args.threshold is not None else dataset["quality"]["threshold"]
    truth, predicted, score = predictions(transform, booster, data)
    out = BASE / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    try:
        evaluation = evaluate_batch(dataset, truth, predicted, score, threshold)
    except DataError as exc:
        fail(f"evaluation failed: {exc}")
    verdict = evaluation.verdict
    if threshold is not None:
        (out / VERDICT_FILE).write_text(json.dumps(verdict, indent=2))
        print(
            f"test {verdict['metric']} {verdict['value']} "
            f"({'meets' if verdict['passed'] else 'misses'} the threshold {threshold:g})"
        )
    report = evaluation.statistics
    (out / EVALUATION_FILE).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
