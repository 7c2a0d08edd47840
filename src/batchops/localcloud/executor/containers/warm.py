"""Warm containers: a Python that has already imported the ML libraries forks one child per
container command, so a local step does not pay 2-3 s of imports every time.

On SageMaker each job starts a fresh container; locally that start-up is a new interpreter
importing numpy, pandas, scikit-learn and xgboost (xgboost alone imports scikit-learn and
takes ~1.6 s here), which dominates short steps: an HPO step with 8 training jobs spends
most of its time importing. The *zygote* (``containers/zygote.py``, run by the image
runtime's interpreter, see ``executor.containers.runtimes``) imports them once, then
serves requests on a Unix socket: each request carries the command, the working directory,
the environment and the write end of the log pipe (passed as a file descriptor); the
zygote forks, the child becomes the container process (new session, its own environment
and ``sys.argv``, stdout/stderr to the pipe) and runs the script or module
as ``__main__``; the zygote reports the child's pid, then its exit status.

Isolation is the same as a subprocess's for what a step can observe: a fresh process, its
own environment, working directory and arguments; modules imported before the fork are
shared read-only copies (a step that mutates library state changes only its own copy).
What a fork cannot change is settings libraries read once at import — ``OMP_NUM_THREADS``
above all — so a zygote is keyed by them (:data:`IMPORT_TIME_ENV`) and a command with other
values gets its own zygote; so is the interpreter (a zygote serves one image runtime).
``BATCHOPS_LOCAL_WARM=0`` (or the executor option ``warm_containers: false``) turns it
off: every command is then a plain subprocess.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

#: What the zygote imports before serving (what the step scripts of both teams use; a module
#: an image runtime lacks, such as polars, is skipped there).
PRELOAD = ("numpy", "pandas", "polars", "sklearn.preprocessing", "xgboost", "boto3")
#: Environment read once at import by the preloaded libraries: a zygote serves one value.
IMPORT_TIME_ENV = ("OMP_NUM_THREADS", "PYTHONHASHSEED")


def enabled(options: Mapping[str, Any]) -> bool:
    if os.environ.get("BATCHOPS_LOCAL_WARM", "1").lower() in ("0", "false", "no"):
        return False
    return bool(options.get("warm_containers", True))


# ----- the client (in the executor) ---------------------------------------------------------
class WarmProcess:
    """The part of ``subprocess.Popen`` that ``run_container`` uses, for a forked child.

    A thread reads the zygote's report (pid, then exit status) so ``poll``/``wait`` from
    the executor's watchdog and its main thread never block each other.
    """

    def __init__(self, connection: socket.socket, stdout: IO[str]) -> None:
        self._connection = connection
        self._buffer = b""
        self.stdout = stdout
        first = self._line()
        if first is None:
            raise OSError("the warm container zygote did not fork")
        self.pid = int(json.loads(first)["pid"])
        self.returncode: int | None = None
        self._done = threading.Event()
        threading.Thread(target=self._await_exit, daemon=True).start()

    def _line(self) -> bytes | None:
        while b"\n" not in self._buffer:
            chunk = self._connection.recv(4096)
            if not chunk:
                return None
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _await_exit(self) -> None:
        try:
            line = self._line()
        except OSError:
            line = None
        # a zygote that died before its child reports nothing: count the child as killed
        self.returncode = int(json.loads(line)["exit"]) if line else -signal.SIGKILL
        self._connection.close()
        self._done.set()

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._done.wait(timeout):
            raise subprocess.TimeoutExpired(["warm container"], timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def _signal(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, number)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


#: The zygote's program: standard library only, so any image runtime can run it.
ZYGOTE_SCRIPT = Path(__file__).resolve().with_name("zygote.py")


class Zygote:
    def __init__(self, python: str, key: tuple[str, ...]) -> None:
        self.python = python
        self.key = key
        self.folder = tempfile.mkdtemp(prefix="batchops-warm-")
        self.path = os.path.join(self.folder, "zygote.sock")
        env = {k: v for k, v in os.environ.items() if k not in IMPORT_TIME_ENV}
        env.update({k: v for k, v in zip(IMPORT_TIME_ENV, key, strict=True) if v})
        env.pop("PYTHONPATH", None)  # the runtime's own packages only
        self.process = subprocess.Popen(
            [python, str(ZYGOTE_SCRIPT), "--socket", self.path, "--preload", ",".join(PRELOAD)],
            stdin=subprocess.PIPE,  # closed when this process ends: the zygote then exits
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            self.stop()
            raise OSError("the warm container zygote did not start")

    def spawn(self, argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> WarmProcess:
        read_fd, write_fd = os.pipe()
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(self.path)
            request = {"argv": list(argv), "cwd": str(cwd), "env": dict(env)}
            socket.send_fds(connection, [json.dumps(request).encode()], [write_fd])
        except OSError:
            connection.close()
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        stdout = open(read_fd, encoding="utf-8", errors="replace")  # noqa: SIM115
        try:
            return WarmProcess(connection, stdout)
        except (OSError, ValueError, KeyError):
            stdout.close()
            connection.close()
            raise OSError("the warm container zygote did not fork") from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)


_ZYGOTES: dict[tuple[str, tuple[str, ...]], Zygote] = {}
_LOCK = threading.Lock()
#: one lock per zygote key, held while that zygote starts: a spawn waits for a zygote being
#: started (by :func:`prewarm` or another spawn) instead of starting a second one
_STARTING: dict[tuple[str, tuple[str, ...]], threading.Lock] = {}


def supports(argv: Sequence[str]) -> bool:
    """``python script …``, ``python -m module …`` or ``python -c code …`` (no other flags)."""
    return len(argv) > 1 and (argv[1] in ("-m", "-c") or not argv[1].startswith("-"))


def import_time_key(env: Mapping[str, str]) -> tuple[str, ...]:
    """What a zygote is keyed by besides its interpreter (:data:`IMPORT_TIME_ENV`)."""
    return tuple(env.get(name, "") for name in IMPORT_TIME_ENV)


def _zygote(python: str, key: tuple[str, ...]) -> Zygote:
    """The live zygote of ``(python, key)``, started if there is none."""
    with _LOCK:
        if not _ZYGOTES and not _STARTING:
            atexit.register(stop_all)
        starting = _STARTING.setdefault((python, key), threading.Lock())
    with starting:
        with _LOCK:
            zygote = _ZYGOTES.get((python, key))
        if zygote is None or not zygote.alive():
            zygote = Zygote(python, key)
            with _LOCK:
                _ZYGOTES[(python, key)] = zygote
        return zygote


def spawn(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> WarmProcess:
    """Fork ``argv`` (see :func:`supports`) from a warm zygote of ``argv[0]``, the image
    runtime's interpreter (one zygote per interpreter and import-time settings)."""
    return _zygote(argv[0], import_time_key(env)).spawn(argv, cwd, env)


def prewarm(pythons: Sequence[str], env: Mapping[str, str]) -> list[threading.Thread]:
    """Start the zygotes of ``pythons`` for containers with ``env``'s import-time settings,
    in the background (a local cloud's start: the first step then forks instead of waiting
    for the imports). A zygote that cannot start here is started, or not, at the first spawn."""

    def start(python: str) -> None:
        with contextlib.suppress(OSError):
            _zygote(python, import_time_key(env))

    threads = [
        threading.Thread(target=start, args=(python,), name="zygote-prewarm", daemon=True)
        for python in dict.fromkeys(pythons)
    ]
    for thread in threads:
        thread.start()
    return threads


def stop_all() -> None:
    """Stop every zygote (at exit: children already forked keep running to their end)."""
    with _LOCK:
        for zygote in _ZYGOTES.values():
            zygote.stop()
        _ZYGOTES.clear()


__all__ = ["WarmProcess", "enabled", "import_time_key", "prewarm", "spawn", "stop_all"]
