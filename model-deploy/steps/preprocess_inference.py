"""PreprocessInference (processing container): validate the batch, find its ground truth.

Input: the batch's ``inference-data.csv`` (the article's layout: the dataset spec's
features, raw) and the pinned model (``model.tar.gz``: its ``dataset.json`` is the spec it
was trained for, its ``transform.json`` the categories training saw). The feature
transform is *not* applied here: it travels inside the model, so the transform job applies
exactly that one. This step

* checks the file against the model's spec: a training-layout file (the target too) or a
  wrong column count fails with file and line, a numeric field that is not a number with
  file, line and column; an empty field is a missing value (imputed by the model);
* counts, per column, the missing values and the categories training never saw —
  ``status/batch.json`` holds the counts and a warning line names them (the model
  handles them; data quality reports them as violations);
* copies the batch (headerless) for the transform job and looks for ``ground-truth.csv``
  beside it in S3 (the article's layout): when present it must have one label per
  inference row; labels training never saw are counted too.

``status/ground_truth.json`` says whether labels exist — the pipeline's CheckGroundTruth
condition reads it. Standard library only; Python 3.8 compatible.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import tarfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
# file names of the lifecycle contract (batchops.lifecycle)
GROUND_TRUTH_STATUS_FILE = "ground_truth.json"
BATCH_REPORT_FILE = "batch.json"
_SHOWN = 5


def fail(message: str) -> None:
    out = Path(f"{ROOT}/opt/ml/output")
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def model_files(folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``dataset.json`` and ``transform.json`` of the pinned model."""
    archives = sorted(folder.rglob("*.tar.gz"))
    if not archives:
        fail(f"no model.tar.gz in the model input {folder.name}/")
    found: dict[str, Any] = {}
    with tarfile.open(archives[0]) as tar:
        for member in tar.getmembers():
            name = member.name.lstrip("./")
            if name in ("dataset.json", "transform.json") and member.isfile():
                handle = tar.extractfile(member)
                if handle is not None:
                    found[name] = json.load(handle)
    if set(found) != {"dataset.json", "transform.json"}:
        fail(f"{archives[0].name} has no dataset.json/transform.json: not a batchops model")
    return found["dataset.json"], found["transform.json"]


def _rows(path: Path, header: bool) -> Any:
    with path.open(newline="", encoding="utf-8") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            if not fields or (header and number == 1):
                continue
            yield number, fields


def check_batch(
    path: Path, dataset: dict[str, Any], transform: dict[str, Any], copy: Path
) -> dict[str, Any]:
    """Validate ``path``, write its headerless copy, return the batch report."""
    features = dataset["features"]
    width = len(features)
    known = {
        c["name"]: set(c["categories"]) for c in transform["columns"] if c["type"] == "categorical"
    }
    missing: Counter = Counter()
    unseen: dict[str, Counter] = {name: Counter() for name in known}
    rows = 0
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for number, fields in _rows(path, bool(dataset.get("header"))):
        if len(fields) == width + 1:
            fail(
                f"{path.name} line {number}: {width + 1} columns — this is the training "
                f"layout (with {dataset['target']['name']}); an inference batch has the "
                f"{width} feature columns"
            )
        if len(fields) != width:
            fail(f"{path.name} line {number}: expected {width} columns, got {len(fields)}")
        for column, (value, feature) in enumerate(zip(fields, features), start=1):
            text = value.strip()
            if not text:
                missing[feature["name"]] += 1
            elif feature["type"] == "numeric":
                try:
                    number_value = float(text)
                except ValueError:
                    number_value = math.nan
                if not math.isfinite(number_value) and text.lower() != "nan":
                    fail(
                        f"{path.name} line {number} column {column} ({feature['name']}): "
                        f"expected a number, got {value!r}"
                    )
            elif text not in known[feature["name"]]:
                unseen[feature["name"]][text] += 1
        writer.writerow(fields)
        rows += 1
    if rows == 0:
        fail(f"{path.name}: no data rows")
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(buffer.getvalue(), encoding="utf-8")
    return {
        "rows": rows,
        "missing": dict(missing),
        "unseen": {name: dict(counts) for name, counts in unseen.items() if counts},
    }


def fetch_ground_truth(input_uri: str, target: Path) -> bool:
    """Download ``ground-truth.csv`` from the batch's folder; False when there is none."""
    import boto3
    from botocore.exceptions import ClientError

    bucket, _, key = input_uri[5:].partition("/")
    folder = key.rsplit("/", 1)[0] if "/" in key else ""
    truth_key = f"{folder}/ground-truth.csv" if folder else "ground-truth.csv"
    try:
        boto3.client("s3").download_file(bucket, truth_key, str(target))
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def check_truth(path: Path, dataset: dict[str, Any], transform: dict[str, Any]) -> dict[str, Any]:
    """Validate the labels (one column), rewrite them headerless, count unknown labels."""
    target = dataset["target"]
    classes = set(transform.get("classes") or [])
    unknown: Counter = Counter()
    labels = []
    for number, fields in _rows(path, bool(dataset.get("header"))):
        if len(fields) != 1:
            fail(
                f"{path.name} line {number}: expected 1 column ({target['name']}), "
                f"got {len(fields)}"
            )
        label = fields[0].strip()
        if not label:
            fail(f"{path.name} line {number} column 1 ({target['name']}): the label is missing")
        if target["type"] == "numeric":
            try:
                float(label)
            except ValueError:
                fail(
                    f"{path.name} line {number} column 1 ({target['name']}): expected a "
                    f"number, got {fields[0]!r}"
                )
        elif label not in classes:
            unknown[label] += 1
        labels.append(label)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([label] for label in labels)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return {"rows": len(labels), "unknown_labels": dict(unknown)}


def _warn(report: dict[str, Any]) -> None:
    for name, counts in report["unseen"].items():
        shown = ", ".join(f"{v!r} x{n}" for v, n in Counter(counts).most_common(_SHOWN))
        print(f"WARNING {name}: categories training never saw: {shown}", file=sys.stderr)
    for label, count in Counter(report.get("unknown_labels", {})).most_common(_SHOWN):
        print(
            f"WARNING ground truth: label training never saw: {label!r} x{count}", file=sys.stderr
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-uri", required=True)
    args = parser.parse_args(argv)
    files = sorted((BASE / "input" / "batch").rglob("*.csv"))
    if not files:
        fail(f"no CSV at {args.input_uri}")
    dataset, transform = model_files(BASE / "input" / "model")
    batch = files[0]
    report = check_batch(batch, dataset, transform, BASE / "batch" / "inference-data.csv")
    rows = report["rows"]
    truth_dir = BASE / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    present = fetch_ground_truth(args.input_uri, truth_dir / "ground-truth.csv")
    if present:
        truth = check_truth(truth_dir / "ground-truth.csv", dataset, transform)
        if truth["rows"] != rows:
            fail(
                f"ground-truth.csv has {truth['rows']} rows but {batch.name} has {rows}: "
                "one label per inference row is needed"
            )
        report["unknown_labels"] = truth["unknown_labels"]
    else:
        (truth_dir / "NONE").write_text("no ground truth for this batch\n")
    status = BASE / "status"
    status.mkdir(parents=True, exist_ok=True)
    (status / GROUND_TRUTH_STATUS_FILE).write_text(json.dumps({"present": present, "rows": rows}))
    (status / BATCH_REPORT_FILE).write_text(json.dumps(report, indent=2))
    _warn(report)
    print(f"batch rows: {rows}; ground truth: {'yes' if present else 'no'}")


if __name__ == "__main__":
    main()
