"""``upsert`` puts only the assets that are missing or changed, as the deploy role.

One listing of the assets' folder finds the missing keys (no ``HeadObject`` each); a key
already there with the same size is compared by its ``batchops-md5`` metadata; a changed
body of the same size is put again all the same.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from batchops.config import load_settings
from batchops.kms import key_arn
from batchops.pipelines.deploy import _upload_assets


class CountingS3:
    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, []

    def __getattr__(self, name: str) -> Any:
        self.calls.append(name)
        return getattr(self.client, name)


def test_only_missing_or_changed_assets_are_put(cloud, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from batchops.aws import clients_for

    settings = load_settings("data-science")
    clients = clients_for(settings, cloud.endpoint)
    counting = CountingS3(clients.client("s3"))
    clients._cache["s3"] = counting  # the same client, counted
    kms = key_arn(clients, settings)
    base = f"{settings.bucket_prefix}/code/asset-test-{uuid.uuid4().hex[:8]}"
    files = {}
    for name, body in (("a/one.py", b"print(1)\n"), ("b/two.py", b"print(2)\n")):
        path = tmp_path / name.replace("/", "_")
        path.write_bytes(body)
        files[f"{base}/{name}"] = path
    built = SimpleNamespace(assets=files, asset_md5={})  # an older build: hashed here

    assert _upload_assets(clients, settings, built, kms) == 2  # type: ignore[arg-type]
    assert "head_object" not in counting.calls  # both were missing: the listing said so
    counting.calls.clear()
    assert _upload_assets(clients, settings, built, kms) == 0  # type: ignore[arg-type]
    assert counting.calls.count("head_object") == 2 and "put_object" not in counting.calls
    files[f"{base}/b/two.py"].write_bytes(b"print(3)\n")  # same size, other bytes
    assert _upload_assets(clients, settings, built, kms) == 1  # type: ignore[arg-type]
    stored = clients.client("s3").get_object(Bucket=settings.bucket_name, Key=f"{base}/b/two.py")
    assert stored["Body"].read() == b"print(3)\n"
