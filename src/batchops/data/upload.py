"""Put data files where the article's S3 layout and the event triggers expect them.

Every upload gets its own folder named by a batch id (UTC timestamp by default), so each
object is immutable and a pipeline run can always be traced to the exact bytes it read::

    s3://<bucket>/<bucket_prefix>/<bucket_train_prefix>/<batch>/training-data.csv
    s3://<bucket>/<bucket_prefix>/<bucket_inf_prefix>/<batch>/ground-truth.csv
    s3://<bucket>/<bucket_prefix>/<bucket_inf_prefix>/<batch>/inference-data.csv

Ground truth is written before the inference data, because the inference data's
*Object Created* event starts the inference pipeline, which looks for ground truth beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from batchops.aws import error_message
from batchops.data.schema import Layout
from batchops.data.validate import require_valid, validate_dataset, validate_file
from batchops.errors import CloudError, DataError
from batchops.kms import key_arn

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.config import Settings

_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class Uploaded:
    layout: Layout
    source: Path
    uri: str
    rows: int


def new_batch_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def object_key(settings: Settings, layout: Layout, batch_id: str) -> str:
    if not _BATCH_ID.match(batch_id):
        raise DataError(f"--batch-id {batch_id!r}: use letters, digits, '.', '_' or '-'")
    prefix = (
        settings.training_data_prefix
        if layout is Layout.TRAINING
        else settings.inference_data_prefix
    )
    return f"{prefix}{batch_id}/{layout.filename}"


def upload_files(
    settings: Settings,
    clients: Clients,
    files: dict[Layout, Path],
    *,
    batch_id: str | None = None,
) -> list[Uploaded]:
    """Validate, then upload (ground truth before inference data)."""
    if Layout.GROUND_TRUTH in files and Layout.INFERENCE not in files:
        raise DataError("--ground-truth needs --inference (ground truth belongs to a batch)")
    reports = [validate_file(path, layout) for layout, path in files.items()]
    if Layout.INFERENCE in files and Layout.GROUND_TRUTH in files:
        inf = next(r for r in reports if r.layout is Layout.INFERENCE)
        truth = next(r for r in reports if r.layout is Layout.GROUND_TRUTH)
        if inf.ok and truth.ok and inf.rows != truth.rows:
            raise DataError(
                f"{truth.path}: {truth.rows} ground-truth rows for {inf.rows} inference rows "
                f"in {inf.path}"
            )
    require_valid(reports)
    batch = batch_id or new_batch_id()
    s3 = clients.client("s3")
    order = [
        layout
        for layout in (Layout.TRAINING, Layout.GROUND_TRUTH, Layout.INFERENCE)
        if layout in files
    ]
    done = []
    from boto3.s3.transfer import TransferConfig
    from botocore.exceptions import BotoCoreError, ClientError

    config = TransferConfig(multipart_threshold=64 * 1024 * 1024)
    kms_key_arn = key_arn(clients, settings)  # the bucket policy compares the ARN as sent
    for layout in order:
        key = object_key(settings, layout, batch)
        try:
            s3.upload_file(
                str(files[layout]),
                settings.bucket_name,
                key,
                ExtraArgs={"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_arn},
                Config=config,
            )
        except (ClientError, BotoCoreError) as exc:
            raise CloudError(
                f"upload of {files[layout]} to s3://{settings.bucket_name}/{key} failed: "
                f"{error_message(exc)}"
            ) from None
        rows = next(r.rows for r in reports if r.layout is layout)
        done.append(Uploaded(layout, files[layout], f"s3://{settings.bucket_name}/{key}", rows))
    return done


def dataset_files(folder: Path) -> dict[Layout, Path]:
    """The article's files present in ``folder`` (validated)."""
    reports = validate_dataset(folder)
    require_valid(reports)
    return {report.layout: report.path for report in reports}
