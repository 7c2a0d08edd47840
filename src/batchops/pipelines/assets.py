"""Make what the SDK uploaded reproducible and machine-free before it becomes an artefact.

Left as the SDK writes them, the assets of a definition depend on the build machine and
the moment: code folders named by a hash of the script's *absolute path*, job folders named
by a timestamp (``batchops-train-20261201214936``, ``tuning-1796161979``), bytecode of the
builder's Python (``__pycache__/*.cpython-311.pyc``, useless in a 3.8/3.9 image),
``sourcecode.json`` holding the checkout path, tarballs with file times and owners. And the
tuner ignores the session's ``default_bucket_prefix`` for ``sourcedir.tar.gz``.

:func:`reproducible` rewrites definition and assets together:

1. drops bytecode (objects and tarball members);
2. replaces the checkout path in text assets by the repository-relative path;
3. repacks tarballs deterministically (sorted members, fixed time, owner 0, modes 644/755,
   gzip header without time);
4. moves every object outside the code prefix under it (where the roles may reach);
5. renames each variable folder (path-hash or timestamp) after a hash of its contents;
6. moves each step's shipped wheels (``<pipeline>/<step>/input/wheels/``, 45 MB for the
   data-quality step's polars) to ``wheels/<hash of the folder>/``, one copy per content
   in the bucket, which every pipeline and step that ships the same wheels names (and
   ``upsert`` then finds already there instead of uploading it once per pipeline).

The result is the same bytes on every machine and at every time for the same sources, and
a changed script gets a new key (a running execution keeps reading its own code).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from pathlib import Path
from typing import Any

FIXED_MTIME = 315532800  # 1980-01-01T00:00:00Z, as the Lambda zips
#: a folder the SDK names by a 64-hex hash or by ``<base>-<timestamp>``
_VARIABLE = re.compile(
    r"^(?P<head>(?:[^/]+/)*?)(?P<seg>[0-9a-f]{64}|[A-Za-z0-9][A-Za-z0-9-]*?-(?:\d{14}|\d{10}))/"
)


def _bytecode(name: str) -> bool:
    return "__pycache__" in name.split("/") or name.endswith((".pyc", ".pyo"))


def _repack(body: bytes) -> bytes:
    members: list[tuple[tarfile.TarInfo, bytes | None]] = []
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as source:
        for member in source.getmembers():
            if _bytecode(member.name) or not (member.isfile() or member.isdir()):
                continue
            handle = source.extractfile(member) if member.isfile() else None
            members.append((member, handle.read() if handle else None))
    out = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9, mtime=0) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.GNU_FORMAT) as target,
    ):
        for member, data in sorted(members, key=lambda m: m[0].name):
            info = tarfile.TarInfo(member.name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = FIXED_MTIME, 0, 0, "", ""
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                target.addfile(info)
            else:
                info.size, info.mode = len(data), 0o755 if member.mode & 0o111 else 0o644
                target.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _machine_free(body: bytes, checkout: Path) -> bytes:
    root = str(checkout).encode()
    return body.replace(root + b"/", b"").replace(root, b".") if root in body else body


def _rename(text: str, objects: dict[str, bytes], bucket: str, old: str, new: str) -> str:
    moved = {(new + k[len(old) :] if k.startswith(old) else k): v for k, v in objects.items()}
    objects.clear()
    objects.update(moved)
    return text.replace(f"s3://{bucket}/{old}", f"s3://{bucket}/{new}")


def reproducible(
    definition: dict[str, Any],
    objects: dict[str, bytes],
    *,
    bucket: str,
    prefix: str,
    checkout: Path,
) -> tuple[str, dict[str, bytes]]:
    """The definition (as JSON text) and its objects, rewritten as the module says."""
    import json

    files: dict[str, bytes] = {}
    for key, body in objects.items():
        if _bytecode(key):
            continue
        files[key] = (
            _repack(body) if key.endswith((".tar.gz", ".tgz")) else _machine_free(body, checkout)
        )
    text = json.dumps(definition, indent=2)
    prefix = prefix.strip("/") + "/"
    outside = sorted(k for k in files if not k.startswith(prefix))
    for top in sorted({k.split("/", 1)[0] for k in outside}):
        if prefix.startswith(f"{top}/"):
            # the code prefix's own ancestor (e.g. an asset under bucket_prefix but outside
            # code/): move those objects one by one, never every URI under that folder
            for key in (k for k in outside if k.startswith(f"{top}/")):
                text = _rename(text, files, bucket, key, f"{prefix}{key}")
        else:
            text = _rename(text, files, bucket, f"{top}/", f"{prefix}{top}/")
    while True:
        folders = {
            m.group("head") + m.group("seg") + "/"
            for k in files
            if (m := _VARIABLE.match(k[len(prefix) :])) is not None
        }
        if not folders:
            break
        folder = sorted(folders)[0]
        old = prefix + folder
        digest = hashlib.sha256()
        for key in sorted(k for k in files if k.startswith(old)):
            digest.update(key[len(old) :].encode() + b"\0" + files[key] + b"\0")
        segment = folder.rstrip("/").rsplit("/", 1)[-1]
        base = "" if re.fullmatch(r"[0-9a-f]{64}", segment) else segment.rsplit("-", 1)[0] + "-"
        new = old[: -len(segment) - 1] + f"{base}{digest.hexdigest()[:16]}/"
        text = _rename(text, files, bucket, old, new)
    for old in sorted({k[: k.index(_WHEELS) + len(_WHEELS) - 1] for k in files if _WHEELS in k}):
        digest = hashlib.sha256()
        for key in sorted(k for k in files if k.startswith(f"{old}/")):
            digest.update(key[len(old) + 1 :].encode() + b"\0" + files[key] + b"\0")
        new = f"{prefix}wheels/{digest.hexdigest()[:16]}"
        text = _move_folder(text, files, bucket, old, new)
    return text, files


#: the folder a step's shipped wheels are uploaded into by the SDK
_WHEELS = "/input/wheels/"


def _move_folder(text: str, objects: dict[str, bytes], bucket: str, old: str, new: str) -> str:
    """Move every object below ``old/`` to ``new/`` and the definition's URIs of that folder
    (``s3://bucket/old`` as a whole string, or below it) with them."""
    text = text.replace(f'"s3://{bucket}/{old}"', f'"s3://{bucket}/{new}"')
    return _rename(text, objects, bucket, f"{old}/", f"{new}/")
