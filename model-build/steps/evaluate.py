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
import math
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

from batchops.monitor.classification import (
    classification_block,
    classification_metrics,
    metric_location,
)
from batchops.monitor.model_quality import regression_metrics
from batchops.monitor.model_quality import statistics_document as regression_document

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


def evaluate(transform: dict[str, Any], booster: Any, data: np.ndarray) -> dict[str, Any]:
    """The statistics document of the booster's predictions on ``data`` (label first)."""
    predicted = booster.predict(xgb.DMatrix(data[:, 1:]))
    problem = transform.get("problem_type", "regression")
    if problem == "regression":
        return regression_document(regression_metrics(predicted, data[:, 0]))
    classes = np.array(transform["classes"], dtype=object)
    truth = classes[data[:, 0].astype(np.int64)]
    dataset = transform["dataset"]
    if problem == "binary_classification":
        score = np.asarray(predicted, dtype=np.float64).ravel()
        labels = classes[(score >= 0.5).astype(np.int64)]
    else:
        score = None
        labels = classes[np.argmax(np.asarray(predicted).reshape(len(data), -1), axis=1)]
    metrics = classification_metrics(
        problem,
        truth,
        labels,
        classes=list(classes),
        positive_label=dataset.get("positive_label"),
        score=score,
    )
    return {
        "version": 0.0,
        "dataset": {"item_count": metrics.count},
        **classification_block(metrics),
    }


def verdict(dataset: dict[str, Any], document: dict[str, Any], threshold: float) -> dict:
    quality = dataset["quality"]
    block, key = metric_location(dataset["problem_type"], quality["metric"])
    value = document[block][key]["value"]
    value = math.nan if value == "NaN" else float(value)
    higher = bool(quality["higher_is_better"])
    passed = math.isfinite(value) and (value >= threshold if higher else value <= threshold)
    return {
        "metric": quality["metric"],
        "value": value if math.isfinite(value) else None,
        "threshold": threshold,
        "passed": passed,
        "higher_is_better": higher,
        "rows": document["dataset"]["item_count"],
        "problem_type": dataset["problem_type"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, default=None)
    args = parser.parse_args(argv)
    model_dir = BASE / "model"
    archive = model_dir / "model.tar.gz"
    if not archive.is_file():
        fail(f"no model.tar.gz in {model_dir}")
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, filter="data")
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model.json"))
    transform = json.loads((model_dir / "transform.json").read_text(encoding="utf-8"))
    files = sorted((BASE / "test").rglob("*.csv"))
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    try:
        report = evaluate(transform, booster, data)
    except ValueError as exc:
        fail(f"evaluation failed: {exc}")
    out = BASE / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / EVALUATION_FILE).write_text(json.dumps(report, indent=2))
    dataset = transform["dataset"]
    threshold = args.threshold if args.threshold is not None else dataset["quality"]["threshold"]
    if threshold is not None:
        found = verdict(dataset, report, float(threshold))
        (out / VERDICT_FILE).write_text(json.dumps(found, indent=2))
        print(
            f"test {found['metric']} {found['value']} "
            f"({'passes' if found['passed'] else 'misses'} the threshold {threshold:g})"
        )


if __name__ == "__main__":
    main()
