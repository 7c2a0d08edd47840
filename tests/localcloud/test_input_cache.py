"""Large job inputs are staged once per content; every use still asks S3 whether it may."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from batchops.config import load_settings
from batchops.errors import PipelineError
from batchops.localcloud.executor.storage import CACHE_MIN_BYTES, download


class CountingS3:
    """The account's S3 client, counting full downloads (what the cache saves)."""

    def __init__(self, client: Any) -> None:
        self.client, self.downloads = client, 0

    def get_object(self, **kwargs: Any) -> Any:
        self.downloads += 1
        return self.client.get_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_the_same_bytes_are_downloaded_once_and_a_new_version_again(
    account, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings("staging")
    s3 = CountingS3(account("staging").client("s3"))
    key = f"{settings.bucket_prefix}/cache-test/wheels/big.whl"
    first = os.urandom(CACHE_MIN_BYTES + 10)
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=first)
    uri = f"s3://{settings.bucket_name}/{settings.bucket_prefix}/cache-test/wheels"
    cache = tmp_path / "cache"
    for job in ("a", "b"):
        (staged,) = download(s3, uri, tmp_path / job, cache=cache)
        assert staged.read_bytes() == first
    assert s3.downloads == 1
    second = os.urandom(CACHE_MIN_BYTES + 10)
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=second)
    (staged,) = download(s3, uri, tmp_path / "c", cache=cache)
    assert staged.read_bytes() == second and s3.downloads == 2


def test_a_cached_copy_is_not_served_when_s3_refuses_the_caller(account, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = load_settings("staging")
    s3 = account("staging").client("s3")
    key = f"{settings.bucket_prefix}/cache-test/refused/big.whl"
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=os.urandom(CACHE_MIN_BYTES))
    uri = f"s3://{settings.bucket_name}/{key}"
    cache = tmp_path / "cache"
    download(s3, uri, tmp_path / "a", cache=cache)

    class Refusing(CountingS3):
        def head_object(self, **kwargs: Any) -> Any:
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    with pytest.raises(PipelineError, match=r"Forbidden|403"):
        download(Refusing(s3), uri, tmp_path / "b", cache=cache)


def test_an_object_replaced_after_the_listing_is_not_staged_half_old(
    account, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Each object is read with the ETag its listing gave (``IfMatch``): an object replaced
    in between fails the staging with S3's PreconditionFailed, never a mix of versions,
    and no partial file stays behind."""
    from batchops.localcloud.executor.storage import get_to_file

    settings = load_settings("staging")
    s3 = account("staging").client("s3")
    key = f"{settings.bucket_prefix}/cache-test/replaced/data.csv"
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=b"a,1\n")
    listed = s3.head_object(Bucket=settings.bucket_name, Key=key)["ETag"]
    s3.put_object(Bucket=settings.bucket_name, Key=key, Body=b"b,2\n")
    target = tmp_path / "data.csv"
    with pytest.raises(ClientError, match=r"PreconditionFailed|412"):
        get_to_file(s3, settings.bucket_name, key, target, listed)
    assert list(tmp_path.iterdir()) == []
    get_to_file(s3, settings.bucket_name, key, target)
    assert target.read_bytes() == b"b,2\n"
