"""Preprocess step (processing container): validate, split, fit the feature transform.

Reads every ``*.csv`` under the input folder in the article's training layout as the
dataset spec describes it (``input/dataset/dataset.json``: the features in file order,
the target last), fails with the file, line and column of the first bad value, splits
train/validation/test with a fixed seed, fits the feature transform on the *training split
only* and writes:

* ``train/``, ``validation/``, ``test/``: the label first (the regression target, or the
  class index), then the transformed features (headerless CSV: the layout SageMaker's
  built-in XGBoost also reads);
* ``baseline/training-data.csv``: the raw *features* of the training split (no target),
  the data-quality baseline — inference batches are checked against it column by column;
* ``transform/transform.json``: the fitted transform and the spec, packaged with the model
  so batch inference applies exactly the same transform and never refits it.

The transform: numeric columns are standardised (mean and standard deviation of the train
split) after missing values are imputed with the train split's median; categorical columns
are one-hot encoded over the categories training saw (the spec's list when it gives one;
ordinal codes above ``--max-one-hot`` categories), a missing value imputed with the most
frequent one. A category the transform does not know encodes as all zeros (one-hot) or
missing (ordinal) at inference — counted, never a crash.

Runs on numpy only (any SageMaker framework image has it); Python 3.8 compatible. On the
local cloud ``BATCHOPS_CONTAINER_ROOT`` names the folder that stands for ``/`` (unset on
AWS).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, List, Optional

import numpy as np

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
TRANSFORM_VERSION = 2


class BadInput(Exception):
    """A problem in the input data, reported as SageMaker's FailureReason."""


def fail(message: str) -> None:
    out = Path(f"{ROOT}/opt/ml/output")
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def load_dataset(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"the dataset spec input {path.name} is missing") from None


Row = List[Optional[str]]


def read_rows(folder: Path, dataset: dict[str, Any]) -> tuple[list[Row], list[str]]:
    """Raw feature values (None: missing) and target values of every training row."""
    files = sorted(p for p in folder.rglob("*.csv") if p.is_file())
    if not files:
        raise BadInput(
            f"no *.csv file under the training data input {folder.name}/ (empty prefix?)"
        )
    rows: list[Row] = []
    targets: list[str] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as handle:
            for number, fields in enumerate(csv.reader(handle), start=1):
                if not fields or all(not f.strip() for f in fields):
                    continue
                if dataset.get("header") and number == 1:
                    continue
                rows.append(parse_row(path.name, number, fields, dataset, targets))
    if len(rows) < 20:
        raise BadInput(f"{files[0].name}: only {len(rows)} data rows; at least 20 are needed")
    check_classes(dataset, targets)
    return rows, targets


def _where(name: str, number: int, column: int, label: str) -> str:
    return f"{name} line {number} column {column} ({label})"


def parse_row(
    name: str, number: int, fields: list[str], dataset: dict[str, Any], targets: list[str]
) -> Row:
    features = dataset["features"]
    target = dataset["target"]
    if len(fields) != len(features) + 1:
        raise BadInput(
            f"{name} line {number}: expected {len(features) + 1} columns "
            f"({len(features)} features, then {target['name']}), got {len(fields)}"
        )
    row: Row = []
    for index, column in enumerate(features):
        value = fields[index].strip()
        if value == "":
            row.append(None)
            continue
        where = _where(name, number, index + 1, column["name"])
        if column["type"] == "numeric":
            check_number(where, value, column)
        elif column.get("categories") is not None and value not in column["categories"]:
            raise BadInput(
                f"{where}: expected one of {'/'.join(column['categories'])}, got {value!r}"
            )
        row.append(value)
    label = fields[-1].strip()
    where = _where(name, number, len(fields), target["name"])
    if label == "":
        raise BadInput(f"{where}: the target is missing")
    if target["type"] == "numeric":
        check_number(where, label, target)
    elif target.get("categories") is not None and label not in target["categories"]:
        raise BadInput(f"{where}: expected one of {'/'.join(target['categories'])}, got {label!r}")
    targets.append(label)
    return row


def check_number(where: str, value: str, column: dict[str, Any]) -> None:
    try:
        number = float(value)
    except ValueError:
        raise BadInput(f"{where}: expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise BadInput(f"{where}: expected a finite number, got {value!r}")
    low, high = column.get("min"), column.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        raise BadInput(f"{where}: {value!r} is outside [{low}, {high}]")


def check_classes(dataset: dict[str, Any], targets: list[str]) -> None:
    problem = dataset["problem_type"]
    if problem == "regression":
        return
    found = sorted(set(targets))
    name = dataset["target"]["name"]
    if len(found) < 2:
        raise BadInput(
            f"the target {name} has one class ({found[0]!r}) in {len(targets)} rows; "
            "a classification model needs at least 2"
        )
    if problem == "binary_classification" and len(found) != 2:
        raise BadInput(
            f"the target {name} has {len(found)} classes ({', '.join(found[:5])}); "
            "binary_classification takes 2: use multiclass_classification"
        )
    positive = dataset.get("positive_label")
    if problem == "binary_classification" and positive not in found:
        raise BadInput(
            f"the positive label {positive!r} never occurs in {name} ({', '.join(found)})"
        )


def classes(dataset: dict[str, Any], targets: list[str]) -> list[str]:
    """The classes in the model's index order: binary [negative, positive]."""
    listed = dataset["target"].get("categories")
    found = list(listed) if listed is not None else sorted(set(targets))
    if dataset["problem_type"] == "binary_classification":
        positive = dataset["positive_label"]
        return [*[c for c in found if c != positive][:1], positive]
    return found


def numeric_statistics(rows: list[Row], indices: list[int]) -> dict[int, tuple[float, ...]]:
    """Mean, scale and impute value of each numeric column over the train split.

    Without missing values this is the exact arithmetic of the first release (one 2-D
    reduction), so the Abalone model is bit for bit what it was; with missing values the
    NaN-aware reductions skip them.
    """
    if not indices:
        return {}
    matrix = np.array(
        [[float(r[i]) if r[i] is not None else math.nan for i in indices] for r in rows]
    ).reshape(len(rows), len(indices))
    if np.isnan(matrix).any():
        with warnings.catch_warnings():  # a column with no value at all: mean 0, scale 1
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = np.nan_to_num(np.nanmean(matrix, axis=0), nan=0.0)
            std = np.nan_to_num(np.nanstd(matrix, axis=0), nan=0.0)
            median = np.nan_to_num(np.nanmedian(matrix, axis=0), nan=0.0)
    else:
        mean, std, median = matrix.mean(axis=0), matrix.std(axis=0), np.median(matrix, axis=0)
    mean = mean.round(8)
    scale = np.where(std > 0, std, 1.0).round(8)
    median = median.round(8)
    return {
        index: (float(mean[k]), float(scale[k]), float(median[k]))
        for k, index in enumerate(indices)
    }


def fit_transform(
    rows: list[Row], dataset: dict[str, Any], targets: list[str], max_one_hot: int
) -> dict[str, Any]:
    features = dataset["features"]
    numeric = [i for i, c in enumerate(features) if c["type"] == "numeric"]
    stats = numeric_statistics(rows, numeric)
    columns = []
    output: list[str] = []
    for index, column in enumerate(features):
        if column["type"] == "numeric":
            mean, scale, median = stats[index]
            columns.append(
                {
                    "name": column["name"],
                    "type": "numeric",
                    "mean": mean,
                    "scale": scale,
                    "impute": median,
                }
            )
            output.append(column["name"])
            continue
        counts = Counter(r[index] for r in rows if r[index] is not None)
        listed = column.get("categories")
        known = (
            list(listed) if listed is not None else sorted(counts, key=lambda c: (-counts[c], c))
        )
        encoding = "onehot" if len(known) <= max_one_hot else "ordinal"
        most_frequent = max(known, key=lambda c: (counts.get(c, 0), -known.index(c)))
        columns.append(
            {
                "name": column["name"],
                "type": "categorical",
                "encoding": encoding,
                "categories": known,
                "impute": most_frequent,
            }
        )
        if encoding == "onehot":
            output.extend(f"{column['name']}_{c}" for c in known)
        else:
            output.append(column["name"])
    return {
        "version": TRANSFORM_VERSION,
        "problem_type": dataset["problem_type"],
        "columns": columns,
        "output_columns": output,
        "classes": classes(dataset, targets) if dataset["problem_type"] != "regression" else None,
        "target_distribution": target_distribution(dataset, targets),
        "dataset": dataset,
    }


def target_distribution(dataset: dict[str, Any], targets: list[str]) -> dict[str, Any]:
    """What the training split's target looks like, for comparison with later ground truth:
    each class's share, or a regression target's mean, spread and quartiles."""
    if dataset["problem_type"] != "regression":
        counts = Counter(targets)
        return {"shares": {c: round(n / len(targets), 6) for c, n in sorted(counts.items())}}
    values = np.array([float(t) for t in targets])
    quartiles = np.percentile(values, [25, 50, 75]).round(6).tolist()
    return {
        "mean": round(float(values.mean()), 6),
        "std": round(float(values.std()), 6),
        "quartiles": quartiles,
    }


def apply_transform(transform: dict[str, Any], rows: list[Row]) -> np.ndarray:
    """The model's feature matrix (float64) of raw rows, as the inference handler builds it."""
    parts = []
    numeric = []
    for index, column in enumerate(transform["columns"]):
        raw = [r[index] for r in rows]
        if column["type"] == "numeric":
            numeric.append(column)
            parts.append(
                np.array([float(v) if v is not None else column["impute"] for v in raw])[:, None]
            )
            continue
        filled = [v if v is not None else column["impute"] for v in raw]
        if column["encoding"] == "onehot":
            onehot = [[1.0 if v == c else 0.0 for c in column["categories"]] for v in filled]
            parts.append(np.array(onehot).reshape(len(rows), len(column["categories"])))
        else:
            code = {c: float(i) for i, c in enumerate(column["categories"])}
            parts.append(np.array([[code.get(v, math.nan)] for v in filled]).reshape(-1, 1))
    matrix = np.hstack(parts) if parts else np.empty((len(rows), 0))
    position = 0
    for column in transform["columns"]:  # scale in place: (value - mean) / scale, float64
        if column["type"] == "numeric":
            matrix[:, position] = (matrix[:, position] - column["mean"]) / column["scale"]
            position += 1
        elif column["encoding"] == "onehot":
            position += len(column["categories"])
        else:
            position += 1
    return matrix


def labels(transform: dict[str, Any], targets: list[str]) -> list[float]:
    if transform["classes"] is None:
        return [float(t) for t in targets]
    index = {c: i for i, c in enumerate(transform["classes"])}
    return [index[t] for t in targets]


def write_csv(path: Path, matrix: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(matrix)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-dir", type=Path, default=BASE / "input" / "data")
    parser.add_argument("--dataset", type=Path, default=BASE / "input" / "dataset" / "dataset.json")
    parser.add_argument("--output-dir", type=Path, default=BASE)
    parser.add_argument("--validation-fraction", type=float, default=0.15)
    parser.add_argument("--test-fraction", type=float, default=0.15)
    parser.add_argument("--max-one-hot", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    try:
        dataset = load_dataset(args.dataset)
        rows, targets = read_rows(args.input_dir, dataset)
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
    transform = fit_transform(
        train_rows, dataset, [targets[i] for i in parts["train"]], args.max_one_hot
    )
    out = args.output_dir
    (out / "transform").mkdir(parents=True, exist_ok=True)
    (out / "transform" / "transform.json").write_text(json.dumps(transform, indent=2))
    encoded = labels(transform, targets)
    for split, index in parts.items():
        features = apply_transform(transform, [rows[i] for i in index])
        rounded = np.round(features, 6).tolist()
        matrix = [[encoded[i], *f] for i, f in zip(index, rounded)]
        write_csv(out / split / f"{split}.csv", matrix)
    baseline = [["" if v is None else v for v in rows[i]] for i in parts["train"]]
    write_csv(out / "baseline" / "training-data.csv", baseline)
    print(f"rows: {len(rows)}; train {len(parts['train'])}, validation {n_val}, test {n_test}")


if __name__ == "__main__":
    main()
