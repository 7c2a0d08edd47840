"""S3 <-> step workspace transfers, with SageMaker's path conventions.

``S3Prefix`` inputs copy every object under the prefix, keeping the key below the
prefix as the relative path (an exact object key lands as its base name), the way
SageMaker fills ``/opt/ml/processing/input/...`` and ``/opt/ml/input/data/<channel>``.
Outputs upload a folder's files under the output URI.

Transfers are one request per object: a ``GetObject`` conditioned on the ETag the listing
gave (``IfMatch``, so an object replaced between the list and the read fails rather than
mixing versions), streamed to the file; a ``PutObject`` for a file below the multipart
threshold. boto3's managed ``download_file``/``upload_file`` add a ``HeadObject`` and a
thread pool per object, which for the many small objects of a job (a training job's
``sm_drivers`` channel has 13) cost more than the transfers; they are kept for large files.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any

from batchops.aws import error_message
from batchops.errors import PipelineError


def split_uri(uri: str) -> tuple[str, str]:
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise PipelineError(f"expected an s3:// URI, got {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise PipelineError(f"S3 URI {uri!r} has no bucket")
    return bucket, key


#: Objects at least this large are kept in the local cloud's input cache (e.g. shipped wheels).
CACHE_MIN_BYTES = 1 << 20
#: Files at least this large go through boto3's managed (multipart) transfer: its default
#: ``multipart_threshold`` (8 MiB)
MULTIPART_BYTES = 8 << 20
_CHUNK = 1 << 20


def get_to_file(s3: Any, bucket: str, key: str, target: Path, etag: str | None = None) -> None:
    """Stream one object into ``target`` with one ``GetObject`` (``IfMatch`` when an ETag
    is known); a failed read leaves no partial file behind."""
    extra = {"IfMatch": etag} if etag else {}
    body = s3.get_object(Bucket=bucket, Key=key, **extra)["Body"]
    partial = target.with_name(f".{target.name}.part")
    try:
        with partial.open("wb") as handle:
            for chunk in iter(lambda: body.read(_CHUNK), b""):
                handle.write(chunk)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        body.close()


def put_file(s3: Any, path: Path, bucket: str, key: str, extra: dict[str, Any] | None) -> None:
    """One ``PutObject`` for a file below :data:`MULTIPART_BYTES`, boto3's managed
    multipart upload above it."""
    if path.stat().st_size >= MULTIPART_BYTES:
        s3.upload_file(str(path), bucket, key, ExtraArgs=extra)
        return
    with path.open("rb") as handle:
        s3.put_object(Bucket=bucket, Key=key, Body=handle, **(extra or {}))


def download(
    s3: Any,
    uri: str,
    local_dir: Path,
    *,
    data_type: str = "S3Prefix",
    cache: Path | None = None,
    shard: tuple[int, int] | None = None,
) -> list[Path]:
    """Copy the object(s) at ``uri`` into ``local_dir``; fails when there are none.

    ``shard``: ``(index, count)`` for ``ShardedByS3Key`` — instance ``index`` of ``count``
    gets every ``count``-th object in key order from its ``index`` (1/count of the
    objects; none when there are fewer objects than instances), instead of all of them.

    ``cache``: a folder where large objects are kept by bucket, key and ETag, so the next
    job staging the same bytes copies them locally instead of reading them from the
    server again; the caller's right to read the object is still checked (``HeadObject``
    with its credentials) before a cached copy is used.
    """
    from botocore.exceptions import ClientError

    bucket, prefix = split_uri(uri)
    local_dir.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    tags: dict[str, tuple[str, int]] = {}
    try:
        if data_type == "ManifestFile":
            raise PipelineError(f"{uri}: ManifestFile inputs are not supported by the local cloud")
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                if not obj["Key"].endswith("/"):
                    keys.append(obj["Key"])
                    tags[obj["Key"]] = (str(obj.get("ETag", "")), int(obj.get("Size", 0)))
    except ClientError as exc:
        raise PipelineError(f"cannot list {uri}: {error_message(exc)}") from None
    if not keys:
        raise PipelineError(f"no S3 objects found under {uri}")
    if shard is not None:
        index, count = shard
        keys = sorted(keys)[index::count]
    written = []
    for key in keys:
        relative = _relative_key(prefix, key)
        target = local_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        etag, size = tags[key]
        cached = None
        if cache is not None and etag and size >= CACHE_MIN_BYTES:
            name = hashlib.sha256(f"{bucket}/{key}/{etag}/{size}".encode()).hexdigest()
            cached = cache / name
        try:
            if cached is not None and cached.is_file():
                s3.head_object(Bucket=bucket, Key=key, IfMatch=etag)  # may this caller read it?
                shutil.copyfile(cached, target)
            else:
                get_to_file(s3, bucket, key, target, etag or None)
                if cached is not None:
                    _keep(target, cached)
        except ClientError as exc:
            raise PipelineError(
                f"cannot download s3://{bucket}/{key}: {error_message(exc)}"
            ) from None
        written.append(target)
    return written


def _keep(source: Path, cached: Path) -> None:
    """Copy ``source`` into the cache atomically (a concurrent job may be doing the same)."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.{id(source)}")
    shutil.copyfile(source, partial)
    os.replace(partial, cached)


def _relative_key(prefix: str, key: str) -> str:
    """Where an object lands below the local path: its key below the prefix's folder
    when the prefix names a folder, its base name when the prefix is the object itself."""
    if key == prefix:
        return Path(key).name
    rest = key[len(prefix) :]
    if prefix.endswith("/") or rest.startswith("/"):
        return rest.lstrip("/")
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return key[len(folder) :]


def upload_dir(s3: Any, local_dir: Path, uri: str, *, kms_key: str | None = None) -> list[str]:
    """Upload every file below ``local_dir`` to ``uri``/relative path."""
    from botocore.exceptions import ClientError

    bucket, prefix = split_uri(uri)
    prefix = prefix.rstrip("/")
    uris: list[str] = []
    if not local_dir.exists():
        return uris
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else None
    for path in sorted(p for p in local_dir.rglob("*") if p.is_file()):
        key = f"{prefix}/{path.relative_to(local_dir).as_posix()}" if prefix else path.name
        try:
            put_file(s3, path, bucket, key, extra)
        except ClientError as exc:
            raise PipelineError(
                f"cannot upload to s3://{bucket}/{key}: {error_message(exc)}"
            ) from None
        uris.append(f"s3://{bucket}/{key}")
    return uris


def upload_file(s3: Any, path: Path, uri: str, *, kms_key: str | None = None) -> str:
    from botocore.exceptions import ClientError

    bucket, key = split_uri(uri)
    extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else None
    try:
        put_file(s3, path, bucket, key, extra)
    except ClientError as exc:
        raise PipelineError(f"cannot upload to {uri}: {error_message(exc)}") from None
    return uri


def read_text(s3: Any, uri: str) -> str:
    from botocore.exceptions import ClientError

    bucket, key = split_uri(uri)
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as exc:
        raise PipelineError(f"cannot read {uri}: {error_message(exc)}") from None
    return body.decode("utf-8")


def make_tarball(source_dir: Path, target: Path) -> Path:
    """``model.tar.gz`` of a folder's content (entries relative, sorted, like SageMaker)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(target, "w:gz") as archive:
        for path in sorted(source_dir.rglob("*")):
            archive.add(path, arcname=path.relative_to(source_dir).as_posix(), recursive=False)
    return target


def extract_tarball(archive_path: Path, target_dir: Path) -> None:
    target_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tarfile.open(archive_path, "r:*") as archive:
            archive.extractall(target_dir, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise PipelineError(f"{archive_path.name}: not a readable tar.gz archive ({exc})") from None
