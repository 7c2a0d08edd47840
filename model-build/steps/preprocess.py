"""Preprocess step (processing container): validate, split, fit the feature transform.

Reads every ``*.csv`` under the input folder in the article's headerless training layout
(sex, seven measurements, rings), fails with the file, line and column of the first bad
value, splits train/validation/test with a fixed seed, fits the feature transform on the
*training split only* (one-hot ``sex``, standard-scale the measurements) and writes:

* ``train/``, ``validation/``, ``test/``: ``rings`` first, then the transformed features
  (headerless CSV: the layout SageMaker's built-in XGBoost also reads);
* ``baseline/training-data.csv``: the raw *features* of the training split (no target),
  the data-quality baseline — inference batches are checked against it column by column;
* ``transform/transform.json``: the fitted transform, packaged with the model so batch
  inference applies exactly the same one and never refits it.

Runs on numpy + pandas only (any SageMaker framework image has them). On the local cloud
``BATCHOPS_CONTAINER_ROOT`` names the folder that stands for ``/`` (unset on AWS).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from pathlib import Path

import numpy as np

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
FEATURES = [
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
]
SEXES = ["M", "F", "I"]


class BadInput(Exception):
    """A problem in the input data, reported as SageMaker's FailureReason."""


#: the fewest training rows a split into train/validation/test can use
#: (batchops.data.schema.MIN_TRAINING_ROWS says the same; a test compares them)
MIN_ROWS = 20

def fail(message: str) -> None:
    out = Path(f"{ROOT}/opt/ml/output")
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def read_rows(folder: Path) -> tuple[list[list[str]], list[float]]:
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    if not files:
        raise BadInput(
            f"no *.csv file under the training data input {folder.name}/ (empty prefix?)"
        )
    rows: list[list[str]] = []
    rings: list[float] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, fields in enumerate(csv.reader(handle), start=1):
                if not fields or all(not f.strip() for f in fields):
                    continue
                rows.append(parse_row(path.name, number, fields, rings))
    if len(rows) < MIN_ROWS:
        raise BadInput(
            f"{files[0].name}: only {len(rows)} data rows; at least {MIN_ROWS} are needed"
        )
    return rows, rings


def parse_row(name: str, number: int, fields: list[str], rings: list[float]) -> list[str]:
    if len(fields) != len(FEATURES) + 1:
        raise BadInput(
            f"{name} line {number}: expected {len(FEATURES) + 1} columns "
            f"(sex, 7 measurements, rings), got {len(fields)}"
        )
    sex = fields[0].strip()
    if sex not in SEXES:
        raise BadInput(f"{name} line {number} column 1 (sex): expected one of M/F/I, got {sex!r}")
    for column in range(1, len(fields)):
        value = fields[column].strip()
        try:
            number_value = float(value)
        except ValueError:
            label = FEATURES[column] if column < len(FEATURES) else "rings"
            raise BadInput(
                f"{name} line {number} column {column + 1} ({label}): expected a number, "
                f"got {value!r}"
            ) from None
        if not math.isfinite(number_value) or number_value < 0:
            raise BadInput(f"{name} line {number} column {column + 1}: got {value!r}")
    rings.append(float(fields[-1]))
    return [f.strip() for f in fields[:-1]]


def fit_transform(rows: list[list[str]]) -> dict:
    numeric = np.array([[float(v) for v in r[1:]] for r in rows])
    std = numeric.std(axis=0)
    return {
        "version": 1,
        "features": FEATURES,
        "categories": {"sex": SEXES},
        "mean": numeric.mean(axis=0).round(8).tolist(),
        "scale": np.where(std > 0, std, 1.0).round(8).tolist(),
        "output_columns": [f"sex_{s}" for s in SEXES] + FEATURES[1:],
    }


def apply_transform(transform: dict, rows: list[list[str]]) -> np.ndarray:
    categories = transform["categories"]["sex"]
    onehot = np.array([[1.0 if r[0] == c else 0.0 for c in categories] for r in rows])
    numeric = np.array([[float(v) for v in r[1:]] for r in rows])
    scaled = (numeric - np.array(transform["mean"])) / np.array(transform["scale"])
    return np.hstack([onehot, scaled])


def write_csv(path: Path, matrix: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(matrix)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", type=Path, default=BASE / "input" / "data")
    parser.add_argument("--output-dir", type=Path, default=BASE)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        rows, rings = read_rows(args.input_dir)
    except BadInput as exc:
        fail(f"bad training data: {exc}")
    order = np.random.default_rng(args.seed).permutation(len(rows))
    n_test = max(1, round(len(rows) * args.test_fraction))
    n_val = max(1, round(len(rows) * args.validation_fraction))
    parts = {
        "test": order[:n_test],
        "validation": order[n_test : n_test + n_val],
        "train": order[n_test + n_val :],
    }
    train_rows = [rows[i] for i in parts["train"]]
    transform = fit_transform(train_rows)
    out = args.output_dir
    (out / "transform").mkdir(parents=True, exist_ok=True)
    (out / "transform" / "transform.json").write_text(json.dumps(transform, indent=2))
    for split, index in parts.items():
        features = apply_transform(transform, [rows[i] for i in index])
        rounded = np.round(features, 6).tolist()
        matrix = [[rings[i], *f] for i, f in zip(index, rounded)]
        write_csv(out / split / f"{split}.csv", matrix)
    write_csv(out / "baseline" / "training-data.csv", [rows[i] for i in parts["train"]])
    print(f"rows: {len(rows)}; train {len(parts['train'])}, validation {n_val}, test {n_test}")


if __name__ == "__main__":
    main()
