"""The local cloud's AWS state on disk: it survives a clean stop and a ``kill -9``.

moto keeps every account's resources in memory, in plain Python objects (one ``BackendDict``
per service). After every request that may have changed a service, the server writes that
service's backends to ``<state>/moto/<service>.pickle`` (a temp file, then a rename) *before*
it answers, so a crash loses at most the requests still in flight — never one whose answer
the client saw. S3 object bodies are written once each to ``<state>/moto/blobs/`` and the
pickle only names them, so a put costs one body write plus the service's metadata, not a
copy of every object. On start, :meth:`MotoState.restore` loads what is there back into
moto's backends before the server accepts a request.

Why snapshots and not only a journal of requests to replay: moto draws ids from a random
source (KMS key ids, role ids, secret ARN suffixes, execution ids), so a replay would not
recreate the same ARNs that later requests — and every client — name. A snapshot holds the
objects. The frequent requests that a replay does reproduce (object and item writes, log
events, publishes) go to a journal instead (:mod:`batchops.localcloud.journal`).

Requests are classified by their action (``X-Amz-Target``, the query ``Action`` or the
REST method): reads (``Describe*``, ``List*``, ``Get*``, ``GET``/``HEAD``…) are never
written; everything else is, conservatively. Mutations of one service are serialised with
its snapshot so a snapshot never holds half of a request.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import tempfile
import threading
import time
import uuid
import weakref
from collections import defaultdict
from collections.abc import Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from batchops.fs import atomic_write_bytes

log = logging.getLogger(__name__)

#: signing names (SigV4 credential scope) that differ from moto's module names
SIGNING_NAMES = {
    "lambda": "awslambda",
    "monitoring": "cloudwatch",
    "execute-api": "apigateway",
    "email": "ses",
    "states": "stepfunctions",
    "scheduler": "scheduler",
}
_READ_ACTION = re.compile(
    r"^(Describe|List|Get|Head|Search|Query|Scan|BatchGet|Lookup|Filter|Check|Test|Validate|"
    r"Preview|Simulate|Decrypt|Encrypt|GenerateDataKey|GenerateRandom|ReEncrypt|Sign|Verify)"
)
_ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
_CREDENTIAL = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_QUERY_CREDENTIAL = re.compile(r"^[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request$")
_INVOCATION = re.compile(r"^/20\d\d-\d\d-\d\d/functions/[^/]+/invocations$")
_CBOR_OPERATION = re.compile(r"/service/[^/]+/operation/([A-Za-z]+)$")
#: BackendDict attributes that are moto's own wiring, not state
_BACKEND_DICT_WIRING = {"backend", "service_name", "_use_boto3_regions", "_additional_regions"}
ALL = "*"
_FORMAT = 1


def signing_service(environ: dict[str, Any]) -> str | None:
    """The moto module a request is for, from its SigV4 credential scope (None: unsigned)."""
    found = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    name = found.group(1) if found else None
    if name is None:
        credential = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential", [""])[0]
        match = _QUERY_CREDENTIAL.match(credential)
        name = match.group(1) if match else None
    return SIGNING_NAMES.get(name, name) if name else None


def request_action(environ: dict[str, Any]) -> str | None:
    """The API action of a JSON/query/CBOR request (None for REST protocols like S3's).

    A form-encoded body is read to find ``Action=`` and put back for moto to read.
    """
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    found = _CBOR_OPERATION.search(environ.get("PATH_INFO", ""))
    if found:
        return found.group(1)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "Action" in query:
        return query["Action"][0]
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        values = parse_qs(body.decode("utf-8", "replace"))
        environ["batchops.form"] = values
        if "Action" in values:
            return values["Action"][0]
    return None


def touched_accounts(service: str | None, environ: dict[str, Any]) -> set[str] | None:
    """The accounts whose state a mutating request may change (None: every account).

    The caller's account (from its access key), except: S3 writes land in the bucket
    owner's account (a cross-account put), and STS keeps assumed-role keys in the IAM of
    the role's account.
    """
    from moto.iam.models import get_account_id_from

    found = _ACCESS_KEY.search(environ.get("HTTP_AUTHORIZATION", ""))
    if found is None or service is None:
        return None
    accounts = {get_account_id_from(found.group(1))}
    if service == "sts":
        role = (environ.get("batchops.form") or {}).get("RoleArn", [""])[0]
        match = re.match(r"^arn:aws[a-z-]*:iam::(\d{12}):", role)
        if match is None:
            return None
        accounts.add(match.group(1))
    if service == "s3":
        from moto.s3.models import s3_backends

        bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
        owner = s3_backends.bucket_accounts.get(bucket)
        if owner is not None:
            accounts.add(owner[1])
    return accounts


def is_mutating(environ: dict[str, Any]) -> bool:
    method = environ.get("REQUEST_METHOD", "GET").upper()
    if _INVOCATION.search(environ.get("PATH_INFO", "")):
        return False  # Lambda Invoke changes no Lambda state (the handler's calls are requests)
    action = request_action(environ)
    if action is not None:
        return not _READ_ACTION.match(action)
    return method not in ("GET", "HEAD", "OPTIONS")


# ----- pickling moto's objects ---------------------------------------------------------------
def _restore_weak_values(items: dict[Any, Any]) -> weakref.WeakValueDictionary[Any, Any]:
    return weakref.WeakValueDictionary(items)


def _factory_type(factory: Any) -> type:
    """A ``lambda: {}``-style factory as the container type it builds (lambdas do not pickle)."""
    made = factory()
    if type(made) in (dict, list, set, int, str) and not made:
        return type(made)
    raise pickle.PicklingError(f"defaultdict factory {factory!r} builds {made!r}")


def _restore_defaultdict(factory: type, items: dict[Any, Any]) -> defaultdict[Any, Any]:
    return defaultdict(factory, items)


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


#: the blob folder of the snapshot being loaded (set by :meth:`MotoState.restore`)
_BLOB_FOLDER: ContextVar[Path | None] = ContextVar("batchops_blob_folder", default=None)


def _restore_key_state(key: Any, state: tuple[dict[str, Any], str | None]) -> None:
    """A moto ``FakeKey``'s state and its body read back from its blob file."""
    attributes, blob = state
    key.__dict__.update(attributes)
    key._value_buffer = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - moto's buffer, kept open
        max_size=key._max_buffer_size
    )
    key.lock = threading.Lock()
    folder = _BLOB_FOLDER.get()
    if blob is not None and folder is not None:
        try:
            key._value_buffer.write((folder / blob).read_bytes())
        except FileNotFoundError:
            log.error("local cloud state: S3 body %s is missing; the object reads empty", blob)
    key._value_buffer.seek(0)


def _restore_versioned(kind: type, lists: dict[str, list[Any]]) -> Any:
    """moto's versioned key store with every version (its ``items()`` yields only the last)."""
    store = kind()
    for name, versions in lists.items():
        dict.__setitem__(store, name, list(versions))
    return store


class _BackendPickler(pickle.Pickler):
    """Pickles moto backends: locks become new locks, S3 bodies go to blob files."""

    def __init__(self, handle: Any, blobs: BlobStore) -> None:
        super().__init__(handle, protocol=pickle.HIGHEST_PROTOCOL)
        self._blobs = blobs
        from moto.s3.models import FakeKey
        from moto.s3.utils import _VersionedKeyStore

        self._fake_key = FakeKey
        self._versioned = _VersionedKeyStore
        self._lock_types = (type(threading.Lock()), type(threading.RLock()))

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, self._fake_key):
            attributes = {
                k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")
            }
            blob = self._blobs.store(obj)
            attributes["_batchops_blob"] = obj.__dict__.get("_batchops_blob")
            return (
                object.__new__,
                (type(obj),),
                (attributes, blob),
                None,
                None,
                _restore_key_state,
            )
        if isinstance(obj, self._versioned):
            return (_restore_versioned, (type(obj), {k: list(v) for k, v in dict.items(obj)}))
        if isinstance(obj, self._lock_types):
            return (threading.RLock if "RLock" in type(obj).__name__ else threading.Lock, ())
        if (
            isinstance(obj, defaultdict)
            and getattr(obj.default_factory, "__name__", "") == "<lambda>"
        ):
            return (_restore_defaultdict, (_factory_type(obj.default_factory), dict(obj)))
        if isinstance(obj, weakref.WeakValueDictionary):
            return (_restore_weak_values, (dict(obj.items()),))
        private_bytes = getattr(obj, "private_bytes", None)
        if private_bytes is not None and type(obj).__module__.startswith("cryptography"):
            from cryptography.hazmat.primitives import serialization

            pem = private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return (_load_private_key, (pem,))
        return NotImplemented


class BlobStore:
    """S3 object bodies, one file each, written once per object version."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def store(self, key: Any) -> str:
        """The blob file name of ``key``'s body (written now if it has none yet)."""
        recorded = key.__dict__.get("_batchops_blob")
        if (
            recorded is not None
            and recorded[1] == key.contentsize
            and (self.folder / recorded[0]).exists()
        ):
            return str(recorded[0])
        try:
            body = key.value
        except ValueError:  # a disposed (deleted) object: its buffer is closed
            body = b""
        name = uuid.uuid4().hex
        atomic_write_bytes(self.folder / name, body)
        key.__dict__["_batchops_blob"] = (name, key.contentsize)
        return name

    def collect(self, keep: set[str]) -> int:
        """Delete bodies no object names any more; returns how many."""
        removed = 0
        for path in self.folder.iterdir():
            if path.name not in keep and not path.name.startswith("."):
                path.unlink(missing_ok=True)
                removed += 1
        return removed


# ----- the snapshots ---------------------------------------------------------------------------
class MotoState:
    """Snapshots of moto's backends under ``<state>/moto/`` (see the module docstring)."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = Path(state_dir) / "moto"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.blobs = BlobStore(self.folder / "blobs")
        from batchops.localcloud.journal import Journal

        self.journal = Journal(self.folder)
        #: service -> account -> the journal's sequence number its snapshot includes
        self.watermarks: dict[str, dict[str, int]] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._guard = threading.Lock()
        self._all = threading.RLock()
        #: seconds spent writing snapshots, and how many (benchmarks read these)
        self.seconds = 0.0
        self.writes = 0
        self.bytes_written = 0

    # ----- which services ------------------------------------------------------------------
    @staticmethod
    def loaded_services() -> list[str]:
        """moto service modules imported in this process (only those can hold state)."""
        import sys

        return sorted(
            name.split(".")[1]
            for name in list(sys.modules)
            if name.startswith("moto.")
            and name.endswith(".models")
            and name.count(".") == 2
            and name.split(".")[1] not in ("core", "moto_api", "utilities")
        )

    def lock_for(self, service: str | None) -> threading.RLock:
        """The lock that serialises a service's mutations with its snapshot."""
        if service is None or service == ALL:
            return self._all
        with self._guard:
            lock = self._locks.get(service)
            if lock is None:
                lock = self._locks[service] = threading.RLock()
            return lock

    @staticmethod
    def _backend_dict(service: str) -> Any | None:
        from moto.backends import get_backend

        try:
            return get_backend(service)  # type: ignore[call-overload]
        except (AttributeError, ImportError, ModuleNotFoundError, KeyError, ValueError):
            return None

    # ----- write ---------------------------------------------------------------------------
    def save(self, service: str | None, accounts: Iterable[str] | None = None) -> None:
        """Write ``service``'s backends of ``accounts`` (None: every account).

        ``service`` None or :data:`ALL` writes every loaded service.
        """
        services = self.loaded_services() if service is None or service == ALL else [service]
        wanted = None if accounts is None else set(accounts)
        for name in services:
            self._save_one(name, wanted)

    def _save_one(self, service: str, accounts: set[str] | None) -> None:
        backend_dict = self._backend_dict(service)
        if backend_dict is None:
            return
        started = time.perf_counter()
        folder = self.folder / service
        for account, regions in list(backend_dict.items()):
            if accounts is not None and account not in accounts:
                continue
            document = {
                "format": _FORMAT,
                "account": account,
                "regions": regions,
                "journal_seq": self.journal.seq,
            }
            data = self._dump(document)
            if data is not None:
                atomic_write_bytes(folder / f"{account}.pickle", data)
                self.bytes_written += len(data)
        extra = {
            name: value
            for name, value in backend_dict.__dict__.items()
            if name not in _BACKEND_DICT_WIRING and name != "_id"
        }
        if extra:
            data = self._dump({"format": _FORMAT, "extra": extra})
            if data is not None:
                atomic_write_bytes(folder / "_backend_dict.pickle", data)
                self.bytes_written += len(data)
        self.seconds += time.perf_counter() - started
        self.writes += 1

    def _dump(self, document: dict[str, Any]) -> bytes | None:
        for _attempt in range(5):
            if "regions" in document:  # a copy: a concurrent read may add a region backend
                document = {**document, "regions": dict(list(document["regions"].items()))}
            handle = io.BytesIO()
            try:
                _BackendPickler(handle, self.blobs).dump(document)
            except RuntimeError:  # changed while pickled (a concurrent request): again
                time.sleep(0.001)
                continue
            return handle.getvalue()
        log.error("local cloud state: could not snapshot %s (kept changing)", document.keys())
        return None

    # ----- read ----------------------------------------------------------------------------
    def snapshots(self) -> list[Path]:
        return sorted(self.folder.glob("*/*.pickle"))

    def restore(self) -> list[str]:
        """Load every snapshot into moto's backends; returns the services restored."""
        restored: set[str] = set()
        token = _BLOB_FOLDER.set(self.blobs.folder)
        try:
            for path in self.snapshots():
                if path.parent.name != "blobs" and self._restore_one(path):
                    restored.add(path.parent.name)
        finally:
            _BLOB_FOLDER.reset(token)
        self._collect_blobs()
        return sorted(restored)

    def _restore_one(self, path: Path) -> bool:
        service = path.parent.name
        backend_dict = self._backend_dict(service)
        if backend_dict is None:
            log.warning("local cloud state: %s names no moto service; ignored", path)
            return False
        try:
            with path.open("rb") as handle:
                document = pickle.load(handle)
        except Exception as exc:
            from batchops.errors import CloudError

            raise CloudError(
                f"{path}: cannot read the local cloud's saved {service} state "
                f"({type(exc).__name__}: {exc}); move the state folder away to start empty"
            ) from None
        if "regions" in document:
            marks = self.watermarks.setdefault(service, {})
            marks[document["account"]] = int(document.get("journal_seq", 0))
            per_account = backend_dict[document["account"]]
            for region, backend in document["regions"].items():
                dict.__setitem__(per_account, region, backend)
        for name, value in document.get("extra", {}).items():
            current = getattr(backend_dict, name, None)
            if isinstance(current, dict) and isinstance(value, dict):
                current.update(value)
            else:
                setattr(backend_dict, name, value)
        return True

    def replay_journal(self, app: Any) -> dict[str, int]:
        """Requests journaled after the snapshots, sent through moto again; then one full
        snapshot, so the journal starts empty (a restart is rare: its cost is fine)."""
        from batchops.localcloud.journal import replay

        records = list(self.journal.records())
        if not records:
            return {"replayed": 0, "failed": 0}
        self.journal.seq = max(r["seq"] for r in records)
        done, failed = replay(records, app, lambda s: self.watermarks.get(s, {}))
        with self.lock_for(None):
            self.save(None)
            self.journal.path.unlink(missing_ok=True)
            self.journal.pending.clear()
        return {"replayed": done, "failed": failed}

    def _collect_blobs(self) -> None:
        from moto.s3.models import s3_backends

        keep: set[str] = set()
        for regions in list(s3_backends.values()):
            for backend in list(regions.values()):
                for bucket in list(backend.buckets.values()):
                    keep.update(_blob_names(bucket))
        removed = self.blobs.collect(keep)
        if removed:
            log.info("local cloud state: removed %d bodies of deleted objects", removed)


def _blob_names(bucket: Any) -> Iterable[str]:
    for versions in list(dict.values(bucket.keys)):
        for key in versions:
            recorded = getattr(key, "__dict__", {}).get("_batchops_blob")
            if recorded:
                yield recorded[0]
    for upload in list(getattr(bucket, "multiparts", {}).values()):
        for part in list(getattr(upload, "parts", {}).values()):
            recorded = getattr(part, "__dict__", {}).get("_batchops_blob")
            if recorded:
                yield recorded[0]


def process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class StateFolderLock:
    """One local cloud per state folder: an exclusive ``flock`` on ``<state>/local-cloud.lock``.

    The kernel releases it when the process ends, however it ends (``kill -9`` included), so
    a crash never leaves a stale lock; ``<state>/local-cloud.json`` says who holds it.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / "local-cloud.lock"
        self.info_path = self.state_dir / "local-cloud.json"
        self._handle: Any = None

    def acquire(self) -> None:
        from batchops.errors import CloudError

        try:
            import fcntl
        except ImportError:  # no flock (Windows): one local cloud per folder is on the user
            return
        self.state_dir.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            holder = self.holder()
            who = (
                f" (pid {holder.get('pid')}, {holder.get('endpoint')})" if holder.get("pid") else ""
            )
            raise CloudError(
                f"state folder {self.state_dir} is in use by another local cloud{who}; stop it "
                "or pass another --state-dir"
            ) from None
        self._handle = handle

    def holder(self) -> dict[str, Any]:
        import json

        try:
            return dict(json.loads(self.info_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def announce(self, **info: Any) -> None:
        from batchops.fs import atomic_write_json

        atomic_write_json(self.info_path, {"pid": os.getpid(), **info})

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
