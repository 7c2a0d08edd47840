"""CheckModelQuality (processing container): the batch's predictions against ground truth.

Reads the transform output (each input record joined with its prediction: the last field,
or for binary classification the label and the positive-class probability), the batch's
``ground-truth.csv`` (one label per row, same order) and the pinned model's
``dataset.json`` (the spec it was trained for: problem type, metric, classes). Writes
Model Monitor's model-quality files — ``statistics.json`` (the problem type's block),
``constraints.json`` (the spec's metric and ``--threshold``), ``constraint_violations.json``
— and the lifecycle contract's verdict ``quality.json`` (metric, value, threshold, passed),
then **fails** when the metric misses the threshold in its direction (an error above it,
a score below it): the failed step is the event that starts retraining. The metrics are
batchops' one model-quality implementation (``batchops.monitor``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tarfile
from pathlib import Path
from typing import Any

from batchops.errors import BatchopsError
from batchops.monitor.quality_gate import (
    evaluate_batch,
    failure_message,
    read_predictions,
    read_truth,
)

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
# file names of the lifecycle contract (batchops.lifecycle) and of Model Monitor
VERDICT_FILE = "quality.json"
FILES = {
    "statistics": "statistics.json",
    "constraints": "constraints.json",
    "violations": "constraint_violations.json",
}


def fail(message: str) -> None:
    failure = Path(f"{ROOT}/opt/ml/output")
    failure.mkdir(parents=True, exist_ok=True)
    (failure / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def model_dataset(folder: Path) -> dict[str, Any]:
    """The spec document the pinned model carries (``dataset.json`` in model.tar.gz)."""
    archives = sorted(folder.rglob("*.tar.gz"))
    if not archives:
        fail(f"no model.tar.gz in the model input {folder.name}/")
    with tarfile.open(archives[0]) as tar:
        for member in tar.getmembers():
            if member.name.lstrip("./") == "dataset.json" and member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    return dict(json.load(handle))
    fail(f"{archives[0].name} has no dataset.json: not a batchops model")
    return {}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threshold", type=float, required=True)
    args = parser.parse_args(argv)
    dataset = model_dataset(BASE / "input" / "model")
    predicted, score = read_predictions(BASE / "predictions", dataset["problem_type"])
    truth = read_truth(BASE / "ground_truth" / "ground-truth.csv", dataset["problem_type"])
    evaluation = evaluate_batch(dataset, truth, predicted, score, args.threshold)
    out = BASE / "model_quality"
    out.mkdir(parents=True, exist_ok=True)
    documents = {
        "statistics": evaluation.statistics,
        "constraints": evaluation.constraints,
        "violations": {"violations": evaluation.violations},
    }
    for name, document in documents.items():
        (out / FILES[name]).write_text(json.dumps(document, indent=2))
    (out / VERDICT_FILE).write_text(json.dumps(evaluation.verdict, indent=2))
    for note in evaluation.notes:
        print(f"WARNING {note}", file=sys.stderr)
    verdict = evaluation.verdict
    print(
        f"model quality on {verdict['rows']} labelled rows: {verdict['metric']} "
        f"{verdict['value']} (threshold {verdict['threshold']:g})"
    )
    if not evaluation.passed:
        fail(failure_message(verdict))


if __name__ == "__main__":
    try:
        main()
    except BatchopsError as exc:  # bad input: one line as the step's FailureReason
        fail(str(exc))
