"""CheckModelQuality (processing container): the batch's predictions against ground truth.

Reads the transform output (input record joined with its prediction: the prediction is the
last field) and ``ground-truth.csv`` (one label per row, same order), writes Model
Monitor's model-quality files (``statistics.json``, ``constraints.json`` with the
``accuracy_mse_threshold`` constraint, ``constraint_violations.json``) and **fails** when
MSE exceeds the threshold: the failed step is the event that starts retraining. The
metrics are batchops' one model-quality implementation (``batchops.monitor.model_quality``),
shipped inside this step's code.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from batchops.errors import BatchopsError
from batchops.monitor.model_quality import evaluate_model_quality

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")


def fail(message: str) -> None:
    failure = Path(f"{ROOT}/opt/ml/output")
    failure.mkdir(parents=True, exist_ok=True)
    (failure / "failure").write_text(message)
    print(message, file=sys.stderr)
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mse-threshold", type=float, required=True)
    args = parser.parse_args(argv)
    result = evaluate_model_quality(
        BASE / "predictions",
        BASE / "ground_truth" / "ground-truth.csv",
        args.mse_threshold,
        BASE / "model_quality",
    )
    metrics = result.metrics
    print(
        f"model quality on {metrics.count} labelled rows: "
        + ", ".join(f"{name} {value:.4f}" for name, value in metrics.values.items())
    )
    if not result.passed:
        fail(
            f"model quality below threshold: mse {metrics.values['mse']:.4f} > "
            f"accuracy_mse_threshold {args.mse_threshold:g} on {metrics.count} labelled rows"
        )


if __name__ == "__main__":
    try:
        main()
    except BatchopsError as exc:  # bad input: one line as the step's FailureReason
        fail(str(exc))
