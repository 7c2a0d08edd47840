"""Inference batches: which one a run scores, and the record that it was scored.

A batch is a folder under the inference prefix, one per upload
(``<bucket_prefix>/<bucket_inf_prefix>/<batch id>/``), holding one or more inference files
(every object but ``ground-truth*.csv``; ``inference-data.csv`` is written last, and its
*Object Created* event starts the pipeline) and optionally ``ground-truth*.csv``.

What a run scores depends on its ``InputKey``:

* a key inside a batch folder (the S3 event's ``inference-data.csv``), or the folder itself
  (``--input s3://bucket/.../<batch>/``): that batch, every file of it, in key order;
* the inference prefix itself (the default: the schedule, and ``batchops pipelines start
  inference`` without ``--input``): the newest batch that has not been scored.

Before scoring, a run *claims* its batch: it writes ``<bucket_prefix>/inference/batches/
<batch id>.json`` with S3's conditional write (``If-None-Match: *``), so of two runs on one
batch — a redelivered event, or the schedule racing an upload — exactly one proceeds and the
other fails with the claimant's execution id. The claim is that record.

The step script ``PreprocessInference`` runs this module in the processing image (shipped
in its step code), so it is kept to the standard library and boto3, Python 3.8.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

GROUND_TRUTH = "ground-truth"
TRIGGER_FILE = "inference-data.csv"


class BatchError(Exception):
    """A batch that cannot be scored (one line for the step's FailureReason)."""


class AlreadyClaimed(BatchError):
    def __init__(self, folder: str, claim: dict[str, Any]) -> None:
        self.claim = claim
        by = claim.get("execution_id", "another execution")
        super().__init__(
            f"batch s3://{claim.get('bucket', '?')}/{folder} is already scored by execution "
            f"{by} (claimed {claim.get('claimed_at', '?')}); it is not scored twice"
        )


def batch_folder(key: str, inference_prefix: str) -> str | None:
    """The batch folder an ``InputKey`` names, or None for "the newest unscored one"."""
    root = inference_prefix.rstrip("/") + "/"
    if key.rstrip("/") + "/" == root:
        return None
    if key.endswith("/"):
        return key
    return key.rsplit("/", 1)[0] + "/" if "/" in key else ""


def claim_key(folder: str, inference_prefix: str, claims_prefix: str) -> str:
    root = inference_prefix.rstrip("/") + "/"
    name = folder[len(root) :] if folder.startswith(root) else folder
    return f"{claims_prefix.rstrip('/')}/{name.strip('/') or 'root'}.json"


def _objects(s3: Any, bucket: str, prefix: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.extend(page.get("Contents", []))
    return found


def is_ground_truth(key: str) -> bool:
    return key.rsplit("/", 1)[-1].startswith(GROUND_TRUTH)


def batch_files(s3: Any, bucket: str, folder: str) -> dict[str, list[str]]:
    """``{"inference": [...], "ground_truth": [...]}``: the batch's objects in key order
    (files directly in the folder; empty objects such as folder markers are skipped)."""
    files: dict[str, list[str]] = {"inference": [], "ground_truth": []}
    for item in sorted(_objects(s3, bucket, folder), key=lambda i: i["Key"]):
        key = item["Key"]
        if "/" in key[len(folder) :] or item.get("Size", 0) == 0:
            continue
        files["ground_truth" if is_ground_truth(key) else "inference"].append(key)
    return files


def batches(s3: Any, bucket: str, inference_prefix: str) -> dict[str, datetime]:
    """Batch folders under the prefix with an inference file -> its newest upload time."""
    root = inference_prefix.rstrip("/") + "/"
    newest: dict[str, datetime] = {}
    for item in _objects(s3, bucket, root):
        rest = item["Key"][len(root) :]
        if "/" not in rest or is_ground_truth(item["Key"]) or item.get("Size", 0) == 0:
            continue
        folder = root + rest.split("/", 1)[0] + "/"
        modified = item["LastModified"]
        if folder not in newest or modified > newest[folder]:
            newest[folder] = modified
    return newest


def read_claim(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return dict(json.loads(body))


def newest_unclaimed(s3: Any, bucket: str, inference_prefix: str, claims_prefix: str) -> str | None:
    """The newest batch folder without a claim (None when every batch is scored)."""
    listed = batches(s3, bucket, inference_prefix)
    claimed = {item["Key"] for item in _objects(s3, bucket, claims_prefix.rstrip("/") + "/")}
    for folder in sorted(listed, key=lambda f: (listed[f], f), reverse=True):
        if claim_key(folder, inference_prefix, claims_prefix) not in claimed:
            return folder
    return None


def claim(
    s3: Any,
    bucket: str,
    folder: str,
    *,
    inference_prefix: str,
    claims_prefix: str,
    execution_id: str,
    kms_key_id: str,
) -> dict[str, Any]:
    """Claim ``folder`` for ``execution_id``; AlreadyClaimed when another run has it."""
    from botocore.exceptions import ClientError

    key = claim_key(folder, inference_prefix, claims_prefix)
    record = {
        "bucket": bucket,
        "batch": folder,
        "execution_id": execution_id,
        "claimed_at": datetime.now(timezone.utc).isoformat(),
    }

    def conditional(request: Any, **_: Any) -> None:  # If-None-Match: * on any botocore
        request.headers["If-None-Match"] = "*"

    handler_id = "batchops-claim"
    s3.meta.events.register("before-sign.s3.PutObject", conditional, unique_id=handler_id)
    try:
        for _attempt in range(5):
            try:
                s3.put_object(
                    Bucket=bucket,
                    Key=key,
                    Body=json.dumps(record).encode(),
                    ContentType="application/json",
                    ServerSideEncryption="aws:kms",
                    SSEKMSKeyId=kms_key_id,
                )
                return record
            except ClientError as exc:
                code = exc.response["Error"]["Code"]
                if code in ("PreconditionFailed", "412"):
                    raise AlreadyClaimed(folder, read_claim(s3, bucket, key) or {}) from None
                if code not in ("ConditionalRequestConflict", "409"):  # concurrent: retry
                    raise
        raise BatchError(f"could not claim s3://{bucket}/{folder}: concurrent claims")
    finally:
        s3.meta.events.unregister("before-sign.s3.PutObject", unique_id=handler_id)
