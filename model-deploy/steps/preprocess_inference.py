"""PreprocessInference (processing container): validate the batch, find its ground truth.

Input: the batch's ``inference-data.csv`` (the article's layout: sex and seven
measurements, no header). The feature transform is *not* applied here: it was fitted at
training time and travels inside the model (``transform.json``), so the transform job
applies exactly that one. This step checks the file (a training-layout file or a wrong
column count fails with file, line and column), copies it for the transform job, and looks
for ``ground-truth.csv`` beside it in S3 (the article's layout). When present, it must have
one row per inference row. ``status/ground_truth.json`` says whether labels exist — the
pipeline's CheckGroundTruth condition reads it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")
FEATURES = 8


def fail(message: str) -> None:
    out = Path(f"{ROOT}/opt/ml/output")
    out.mkdir(parents=True, exist_ok=True)
    (out / "failure").write_text(message[:1000])
    print(message, file=sys.stderr)
    sys.exit(1)


def check_batch(path: Path) -> int:
    rows = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            if not fields:
                continue
            if len(fields) == FEATURES + 1:
                fail(
                    f"{path.name} line {number}: 9 columns — this is the training layout "
                    "(with rings); an inference batch has the 8 feature columns"
                )
            if len(fields) != FEATURES:
                fail(f"{path.name} line {number}: expected {FEATURES} columns, got {len(fields)}")
            if fields[0].strip() not in ("M", "F", "I"):
                fail(f"{path.name} line {number} column 1 (sex): expected M/F/I, got {fields[0]!r}")
            for column, value in enumerate(fields[1:], start=2):
                try:
                    float(value)
                except ValueError:
                    fail(
                        f"{path.name} line {number} column {column}: expected a number, "
                        f"got {value!r}"
                    )
            rows += 1
    if rows == 0:
        fail(f"{path.name}: no data rows")
    return rows


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


def count_truth(path: Path) -> int:
    rows = 0
    with path.open(newline="", encoding="utf-8") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            if not fields:
                continue
            if len(fields) != 1:
                fail(f"{path.name} line {number}: expected 1 column (rings), got {len(fields)}")
            try:
                float(fields[0])
            except ValueError:
                fail(
                    f"{path.name} line {number} column 1 (rings): expected a number, "
                    f"got {fields[0]!r}"
                )
            rows += 1
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--input-uri", required=True)
    args = parser.parse_args(argv)
    files = sorted((BASE / "input" / "batch").rglob("*.csv"))
    if not files:
        fail(f"no CSV at {args.input_uri}")
    batch = files[0]
    rows = check_batch(batch)
    (BASE / "batch").mkdir(parents=True, exist_ok=True)
    shutil.copy(batch, BASE / "batch" / "inference-data.csv")
    truth_dir = BASE / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    present = fetch_ground_truth(args.input_uri, truth_dir / "ground-truth.csv")
    if present:
        truth_rows = count_truth(truth_dir / "ground-truth.csv")
        if truth_rows != rows:
            fail(
                f"ground-truth.csv has {truth_rows} rows but {batch.name} has {rows}: "
                "one label per inference row is needed"
            )
    else:
        (truth_dir / "NONE").write_text("no ground truth for this batch\n")
    status = BASE / "status"
    status.mkdir(parents=True, exist_ok=True)
    (status / "ground_truth.json").write_text(json.dumps({"present": present, "rows": rows}))
    print(f"batch rows: {rows}; ground truth: {'yes' if present else 'no'}")


if __name__ == "__main__":
    main()
