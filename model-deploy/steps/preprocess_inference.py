"""PreprocessInference (processing container): find the batch, claim it, validate it.

The batch is chosen by ``batchops.batches`` (shipped with this script as its step code): the
folder of the S3 event's key, the folder ``--input`` names, or — on a schedule or a start
without input — the newest batch not yet scored. The run claims it (a conditional write:
of two runs on one batch exactly one proceeds), then checks *every* inference file of it
(the article's layout: sex and seven measurements, no header; a training-layout file or a
wrong column count fails with file, line and column) and writes them, in key order, as one
``inference-data.csv`` for the transform job. Ground truth (``ground-truth*.csv`` beside
them, same order) must have one row per inference row. ``status/ground_truth.json`` says
whether labels exist — the pipeline's CheckGroundTruth condition reads it — and which batch
and files were scored. The feature transform is *not* applied here: it was fitted at
training time and travels inside the model.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
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


def _concatenate(s3, bucket: str, keys: list, target: Path, check) -> int:
    """Download ``keys`` in order into one file, checking each; rows in total."""
    rows = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    work = BASE / "work"
    work.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        for key in keys:
            part = work / key.rsplit("/", 1)[-1]
            s3.download_file(bucket, key, str(part))
            rows += check(part)
            data = part.read_bytes()
            out.write(data if not data or data.endswith(b"\n") else data + b"\n")
            part.unlink()
    return rows


def main(argv: list[str] | None = None) -> None:
    import boto3

    from batchops.batches import BatchError, batch_files, batch_folder, claim, newest_unclaimed

    parser = argparse.ArgumentParser()
    parser.add_argument("--input-uri", required=True)
    parser.add_argument("--inference-prefix", required=True)
    parser.add_argument("--claims-prefix", required=True)
    parser.add_argument("--execution-id", required=True)
    parser.add_argument("--kms-key-id", required=True)
    args = parser.parse_args(argv)
    if not args.input_uri.startswith("s3://"):
        fail(f"--input-uri {args.input_uri!r}: expected s3://bucket/key")
    bucket, _, key = args.input_uri[5:].partition("/")
    s3 = boto3.client("s3")
    folder = batch_folder(key, args.inference_prefix)
    if folder is None:
        folder = newest_unclaimed(s3, bucket, args.inference_prefix, args.claims_prefix)
        if folder is None:
            fail(f"nothing to score: every batch under s3://{bucket}/{key} has been scored")
    files = batch_files(s3, bucket, folder)
    if not files["inference"]:
        fail(f"no inference file in s3://{bucket}/{folder}")
    try:
        claim(
            s3,
            bucket,
            folder,
            inference_prefix=args.inference_prefix,
            claims_prefix=args.claims_prefix,
            execution_id=args.execution_id,
            kms_key_id=args.kms_key_id,
        )
    except BatchError as exc:
        fail(str(exc))
    rows = _concatenate(
        s3, bucket, files["inference"], BASE / "batch" / "inference-data.csv", check_batch
    )
    truth_dir = BASE / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    present = bool(files["ground_truth"])
    if present:
        truth_rows = _concatenate(
            s3, bucket, files["ground_truth"], truth_dir / "ground-truth.csv", count_truth
        )
        if truth_rows != rows:
            fail(
                f"ground truth has {truth_rows} rows but the batch's inference files have "
                f"{rows}: one label per inference row is needed"
            )
    else:
        (truth_dir / "NONE").write_text("no ground truth for this batch\n")
    status = BASE / "status"
    status.mkdir(parents=True, exist_ok=True)
    report = {
        "present": present,
        "rows": rows,
        "batch": f"s3://{bucket}/{folder}",
        "files": files["inference"] + files["ground_truth"],
    }
    (status / "ground_truth.json").write_text(json.dumps(report))
    print(
        f"batch s3://{bucket}/{folder}: {len(files['inference'])} file(s), {rows} rows; "
        f"ground truth: {'yes' if present else 'no'}"
    )


if __name__ == "__main__":
    main()
