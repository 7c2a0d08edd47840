"""PreprocessInference (processing container): find the batch, claim it, validate it.

The batch is chosen by ``batchops.batches`` (shipped with this script as its step code): the
folder of the S3 event's key, the folder ``--input`` names, or — on a schedule or a start
without input — the newest batch not yet scored. The run claims it (a conditional write:
of two runs on one batch exactly one proceeds), then checks *every* inference file of it
against the pinned model's dataset spec (``model.tar.gz``: its ``dataset.json`` is the spec
it was trained for, its ``transform.json`` the categories training saw) and writes them, in
key order and headerless, as one ``inference-data.csv`` for the transform job. The feature
transform is *not* applied here: it travels inside the model, so the transform job applies
exactly that one. This step

* checks each file against the model's spec: a training-layout file (the target too) or a
  wrong column count fails with file and line, a numeric field that is not a number with
  file, line and column; an empty field is a missing value (imputed by the model);
* counts, per column, the missing values and the categories training never saw —
  ``status/batch.json`` holds the counts and a warning line names them (the model
  handles them; data quality reports them as violations);
* reads ground truth (``ground-truth*.csv`` beside the inference files, same order): one
  label per inference row; labels training never saw are counted too.

``status/ground_truth.json`` says whether labels exist — the pipeline's CheckGroundTruth
condition reads it — and which batch and files were scored. Python 3.8 compatible.
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


def choose_and_claim(s3: Any, bucket: str, key: str, args: Any) -> tuple[str, dict[str, list]]:
    """The batch folder to score and its files, claimed for this execution."""
    from batchops.batches import BatchError, batch_files, batch_folder, claim, newest_unclaimed

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
    return folder, files


def main(argv: list[str] | None = None) -> None:
    import boto3

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
    dataset, transform = model_files(BASE / "input" / "model")
    s3 = boto3.client("s3")
    folder, files = choose_and_claim(s3, bucket, key, args)
    report: dict[str, Any] = {"rows": 0, "missing": Counter(), "unseen": {}}

    def check_inference(part: Path) -> int:
        found = check_batch(part, dataset, transform, part)  # rewritten headerless in place
        report["missing"].update(found["missing"])
        for name, counts in found["unseen"].items():
            report["unseen"].setdefault(name, Counter()).update(counts)
        return int(found["rows"])

    rows = _concatenate(
        s3, bucket, files["inference"], BASE / "batch" / "inference-data.csv", check_inference
    )
    report["rows"] = rows
    report["missing"] = dict(report["missing"])
    report["unseen"] = {name: dict(counts) for name, counts in report["unseen"].items()}
    truth_dir = BASE / "ground_truth"
    truth_dir.mkdir(parents=True, exist_ok=True)
    present = bool(files["ground_truth"])
    if present:
        unknown: Counter = Counter()

        def check_labels(part: Path) -> int:
            found = check_truth(part, dataset, transform)  # rewritten headerless in place
            unknown.update(found["unknown_labels"])
            return int(found["rows"])

        truth_rows = _concatenate(
            s3, bucket, files["ground_truth"], truth_dir / "ground-truth.csv", check_labels
        )
        if truth_rows != rows:
            fail(
                f"ground truth has {truth_rows} rows but the batch's inference files have "
                f"{rows}: one label per inference row is needed"
            )
        report["unknown_labels"] = dict(unknown)
    else:
        (truth_dir / "NONE").write_text("no ground truth for this batch\n")
    status = BASE / "status"
    status.mkdir(parents=True, exist_ok=True)
    scored = {
        "present": present,
        "rows": rows,
        "batch": f"s3://{bucket}/{folder}",
        "files": files["inference"] + files["ground_truth"],
    }
    (status / GROUND_TRUTH_STATUS_FILE).write_text(json.dumps(scored))
    (status / BATCH_REPORT_FILE).write_text(json.dumps(report, indent=2))
    _warn(report)
    print(
        f"batch s3://{bucket}/{folder}: {len(files['inference'])} file(s), {rows} rows; "
        f"ground truth: {'yes' if present else 'no'}"
    )


if __name__ == "__main__":
    main()
