"""A journal of the frequent, deterministic requests between snapshots of their service.

A snapshot costs what the service's state weighs: re-pickling every object of an account on
each ``PutObject`` grows with the objects already there (``benchmarks/results/persistence.md``
measured 9x at 2,000 objects). The requests that dominate — S3 object writes, DynamoDB item
writes, CloudWatch Logs events, SNS publishes — are *deterministic*: sent again to the same
state they do the same thing (no random id that later requests would name). So they are
appended to ``<state>/moto/journal.log`` before the answer goes out (one record, written in
one call: a crash leaves at most a torn last record, which is ignored), and the service is
snapshotted only every :data:`COMPACT_EVERY` of them, when its journal entries are dropped.
On start, after loading the snapshots, the entries newer than each snapshot are replayed
through moto (with the local cloud's own side effects — events, notifications — off), in
the order they were answered.

Everything else (creates that draw ids: buckets, keys, roles, executions; multipart uploads;
SQS receives and deletes, whose receipt handles are random) is snapshotted at once — and so
is an object write of :data:`LARGE_BODY_BYTES` or more (the data-quality step's 45 MB of
wheels): its snapshot writes the body once to the blob store, where a journal entry would
carry it in the journal and again in every compaction until the next snapshot.
"""

from __future__ import annotations

import io
import logging
import pickle
import struct
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

#: journal entries of one service before it is snapshotted (and its entries dropped)
COMPACT_EVERY = 200
_HEADER = struct.Struct(">I")
#: an object write at least this large is snapshotted, not journaled (module docstring)
LARGE_BODY_BYTES = 1 << 20
#: JSON-protocol actions that are deterministic and frequent, by moto service
JOURNALED_ACTIONS = {
    "dynamodb": frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}),
    "logs": frozenset({"PutLogEvents"}),
    "sns": frozenset({"Publish"}),
}
#: request headers a replay needs (auth selects the account; the rest shape the request)
_KEPT_HEADERS = (
    "HTTP_AUTHORIZATION",
    "HTTP_X_AMZ_TARGET",
    "HTTP_X_AMZ_DATE",
    "HTTP_X_AMZ_CONTENT_SHA256",
    "HTTP_X_AMZ_DECODED_CONTENT_LENGTH",
    "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION",
    "HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID",
    "HTTP_X_AMZ_COPY_SOURCE",
    "HTTP_X_AMZ_METADATA_DIRECTIVE",
    "HTTP_X_AMZ_TAGGING",
    "HTTP_X_AMZ_STORAGE_CLASS",
    "HTTP_X_AMZ_TRAILER",
    "HTTP_X_AMZ_CHECKSUM_CRC32",
    "HTTP_X_AMZ_SDK_CHECKSUM_ALGORITHM",
    "HTTP_CONTENT_ENCODING",
    "HTTP_CONTENT_MD5",
    "HTTP_HOST",
    "CONTENT_TYPE",
)


def journaled(service: str | None, environ: dict[str, Any], action: str | None) -> bool:
    """True for the requests this journal takes (see the module docstring)."""
    if service == "s3":
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        if {"uploads", "uploadId", "partNumber"} & set(query):
            return False  # multipart: upload ids are random
        parts = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)
        object_level = len(parts) == 2 and bool(parts[1])
        method = environ.get("REQUEST_METHOD", "GET").upper()
        large = int(environ.get("CONTENT_LENGTH") or 0) >= LARGE_BODY_BYTES
        return object_level and method in ("PUT", "DELETE") and not large
    return action is not None and action in JOURNALED_ACTIONS.get(service or "", frozenset())


def request_body(environ: dict[str, Any]) -> bytes:
    """The request's body, put back for moto to read."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


class Journal:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / "journal.log"
        self._lock = threading.Lock()
        self.seq = 0
        self.pending: dict[str, int] = {}  # service -> entries since its last snapshot
        self.bytes_written = 0

    def append(
        self, service: str, accounts: Iterable[str], environ: dict[str, Any], body: bytes
    ) -> int:
        """Record a request that was answered 2xx; returns its sequence number."""
        record = {
            "service": service,
            "accounts": sorted(accounts),
            "method": environ.get("REQUEST_METHOD", "GET"),
            "path": environ.get("PATH_INFO", "/"),
            "query": environ.get("QUERY_STRING", ""),
            "headers": {k: environ[k] for k in _KEPT_HEADERS if k in environ},
            "body": body,
        }
        with self._lock:
            self.seq += 1
            record["seq"] = self.seq
            data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
            with self.path.open("ab") as handle:
                handle.write(_HEADER.pack(len(data)) + data)
            self.bytes_written += len(data) + _HEADER.size
            self.pending[service] = self.pending.get(service, 0) + 1
            return self.seq

    def due(self, service: str) -> bool:
        return self.pending.get(service, 0) >= COMPACT_EVERY

    def records(self) -> Iterator[dict[str, Any]]:
        """Every whole record (a torn last one, from a crash mid-write, is skipped)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        offset = 0
        while offset + _HEADER.size <= len(data):
            (length,) = _HEADER.unpack_from(data, offset)
            start = offset + _HEADER.size
            if start + length > len(data):
                log.warning("local cloud journal: a torn last record (a crash mid-write) ignored")
                return
            try:
                yield pickle.loads(data[start : start + length])
            except Exception:
                log.warning("local cloud journal: an unreadable record ignored")
            offset = start + length

    def compacted(self, service: str, watermarks: Callable[[str], dict[str, int]]) -> None:
        """Drop the records every snapshot of their service already holds."""
        with self._lock:
            self.pending[service] = 0
            if not any(self.pending.values()):
                self.path.unlink(missing_ok=True)  # nothing newer than the snapshots
                return
            kept = [
                r
                for r in self.records()
                if r["seq"]
                > min(
                    (watermarks(r["service"]).get(a, 0) for a in r["accounts"] or [""]),
                    default=0,
                )
            ]
            buffer = io.BytesIO()
            for record in kept:
                data = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
                buffer.write(_HEADER.pack(len(data)) + data)
            from batchops.fs import atomic_write_bytes

            atomic_write_bytes(self.path, buffer.getvalue())


def replay(
    records: Iterable[dict[str, Any]],
    app: Callable[..., Iterable[bytes]],
    watermarks: Callable[[str], dict[str, int]],
) -> tuple[int, int]:
    """Send the records newer than their snapshots through ``app``; (replayed, failed)."""
    done = failed = 0
    for record in records:
        marks = watermarks(record["service"])
        if record["accounts"] and all(record["seq"] <= marks.get(a, 0) for a in record["accounts"]):
            continue
        status: list[str] = []
        body = record["body"]
        environ = {
            "REQUEST_METHOD": record["method"],
            "PATH_INFO": record["path"],
            "QUERY_STRING": record["query"],
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "0",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "wsgi.errors": io.StringIO(),
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
            **record["headers"],
        }
        try:
            for _chunk in app(environ, lambda s, h, *a, seen=status: seen.append(s)):
                pass
        except Exception as exc:
            failed += 1
            log.warning(
                "local cloud journal: replay of %s %s failed: %s",
                record["method"],
                record["path"],
                exc,
            )
            continue
        if status and not status[0].startswith("2"):
            failed += 1
            log.warning(
                "local cloud journal: replay of %s %s answered %s",
                record["method"],
                record["path"],
                status[0],
            )
            continue
        done += 1
    return done, failed
