"""CheckModelQuality (processing container): the batch's predictions against ground truth.

Reads the transform output (input record joined with its prediction: the prediction is the
last field) and ``ground-truth.csv`` (one label per row, same order), writes
``model_quality.json`` with Model Monitor's regression metrics layout, and **fails** when
MSE exceeds the threshold (``accuracy_mse_threshold``): the failed step is the event that
starts retraining.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")


def column(folder: Path, index: int) -> list[float]:
    values: list[float] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "NONE"):
        with path.open(newline="", encoding="utf-8") as handle:
            values.extend(float(row[index]) for row in csv.reader(handle) if row)
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mse-threshold", type=float, required=True)
    args = parser.parse_args(argv)
    predicted = column(BASE / "predictions", -1)
    actual = column(BASE / "ground_truth", 0)
    if len(predicted) != len(actual) or not actual:
        message = f"{len(predicted)} predictions but {len(actual)} ground-truth labels"
        print(message, file=sys.stderr)
        sys.exit(1)
    errors = [p - a for p, a in zip(predicted, actual)]  # lengths checked above
    n = len(errors)
    mse = sum(e * e for e in errors) / n
    mean = sum(actual) / n
    total = sum((a - mean) ** 2 for a in actual)
    report = {
        "version": 0.0,
        "dataset": {"item_count": n, "evaluation_time": os.environ.get("PROCESSING_JOB_NAME", "")},
        "regression_metrics": {
            "mse": {"value": mse, "standard_deviation": 0.0},
            "rmse": {"value": math.sqrt(mse), "standard_deviation": 0.0},
            "mae": {"value": sum(abs(e) for e in errors) / n, "standard_deviation": 0.0},
            "r2": {
                "value": 1 - sum(e * e for e in errors) / total if total else 0.0,
                "standard_deviation": 0.0,
            },
        },
        "threshold": {
            "metric": "mse",
            "value": args.mse_threshold,
            "passed": mse <= args.mse_threshold,
        },
    }
    out = BASE / "model_quality"
    out.mkdir(parents=True, exist_ok=True)
    (out / "model_quality.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report["regression_metrics"]))
    if mse > args.mse_threshold:
        failure = Path(f"{ROOT}/opt/ml/output")
        failure.mkdir(parents=True, exist_ok=True)
        message = (
            f"model quality below threshold: mse {mse:.4f} > accuracy_mse_threshold "
            f"{args.mse_threshold:g} on {n} labelled rows"
        )
        (failure / "failure").write_text(message)
        print(message, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
