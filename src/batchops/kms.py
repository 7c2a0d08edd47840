"""The account's KMS key ARN, resolved from the configured ``kms_key`` (alias or key ARN).

The settings name the key by alias ARN (``arn:aws:kms:<region>:<account>:alias/batchops-
<env>``), the one name Terraform fixes in advance: the key id inside the key ARN is random
and only known after apply. But AWS wants the key ARN in two places we write:

* S3: the data bucket's policy denies ``PutObject`` unless the request's
  ``x-amz-server-side-encryption-aws-kms-key-id`` *equals* the key ARN — S3 compares the
  header as sent, so a put naming the alias is refused;
* SageMaker: ``VolumeKmsKeyId`` of training/tuning ``ResourceConfig`` and processing
  ``ClusterConfig`` takes a key id or key ARN, not an alias.

So every writer (asset upload, deployment history, data upload) and every upsert (the
``KmsKeyArn`` pipeline parameter) asks :func:`key_arn`, which calls ``kms:DescribeKey`` on
the alias once per account and session (the deploy role and whoever uploads data need
``kms:DescribeKey`` on the key). A ``kms_key`` that already is a key ARN is used as is.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING

from batchops.aws import error_message
from batchops.errors import CloudError

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.config import Settings

KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")
_resolved: dict[tuple[str | None, str | None, str], str] = {}
_lock = threading.Lock()


def key_arn(clients: Clients, settings: Settings) -> str:
    """The key ARN ``settings.kms_key`` names in ``clients``' account."""
    if KEY_ARN.match(settings.kms_key):
        return settings.kms_key
    cache = (clients.endpoint, settings.account_id, settings.kms_key)
    with _lock:
        if cache in _resolved:
            return _resolved[cache]
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        metadata = clients.client("kms").describe_key(KeyId=settings.kms_key)["KeyMetadata"]
    except (ClientError, BotoCoreError) as exc:
        raise CloudError(
            f"kms_key {settings.kms_key} ({settings.environment}): kms:DescribeKey failed: "
            f"{error_message(exc)} (the key ARN is needed for S3 puts and SageMaker volumes)"
        ) from None
    arn = str(metadata["Arn"])
    if not KEY_ARN.match(arn):
        raise CloudError(f"kms_key {settings.kms_key}: DescribeKey answered {arn!r}, no key ARN")
    with _lock:
        _resolved[cache] = arn
    return arn
