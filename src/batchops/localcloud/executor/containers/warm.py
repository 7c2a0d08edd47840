"""Warm containers: a Python that has already imported the ML libraries forks one child per
container command, so a local step does not pay 2-3 s of imports every time.

On SageMaker each job starts a fresh container; locally that start-up is a new interpreter
importing numpy, pandas, scikit-learn and xgboost (xgboost alone imports scikit-learn and
takes ~1.6 s here), which dominates short steps: an HPO step with 8 training jobs spends
most of its time importing. The *zygote*
(``python -m batchops.localcloud.executor.containers.warm``) imports
them once, then serves requests on a Unix socket: each request carries the command, the
working directory, the environment and the write end of the log pipe (passed as a file
descriptor); the zygote forks, the child becomes the container process (new session, its
own environment and ``sys.argv``, stdout/stderr to the pipe) and runs the script or module
as ``__main__``; the zygote reports the child's pid, then its exit status.

Isolation is the same as a subprocess's for what a step can observe: a fresh process, its
own environment, working directory and arguments; modules imported before the fork are
shared read-only copies (a step that mutates library state changes only its own copy).
What a fork cannot change is settings libraries read once at import — ``OMP_NUM_THREADS``
above all — so a zygote is keyed by them (:data:`IMPORT_TIME_ENV`) and a command with other
values gets its own zygote. ``BATCHOPS_LOCAL_WARM=0`` (or the executor option
``warm_containers: false``) turns it off: every command is then a plain subprocess.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

#: What the zygote imports before serving (what the step scripts of both teams use).
PRELOAD = ("numpy", "pandas", "polars", "sklearn.preprocessing", "xgboost", "boto3")
#: Environment read once at import by the preloaded libraries: a zygote serves one value.
IMPORT_TIME_ENV = ("OMP_NUM_THREADS", "PYTHONHASHSEED")


def enabled(options: Mapping[str, Any]) -> bool:
    if os.environ.get("BATCHOPS_LOCAL_WARM", "1").lower() in ("0", "false", "no"):
        return False
    return bool(options.get("warm_containers", True))


# ----- the zygote (runs in its own process) ------------------------------------------------
def _run_main(request: dict[str, Any]) -> None:
    """Run the request's ``python …`` command as ``__main__`` in this (forked) process."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    argv = list(request["argv"][1:])
    if argv[:1] == ["-c"]:
        sys.argv = ["-c", *argv[2:]]
        sys.path[:0] = ["", *extra]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
    elif argv[:1] == ["-m"]:
        sys.argv = [argv[1], *argv[2:]]
        sys.path[:0] = [request["cwd"], *extra]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        script = str(Path(argv[0]).resolve())
        sys.argv = [argv[0], *argv[1:]]
        sys.path[:0] = [str(Path(script).parent), *extra]
        runpy.run_path(script, run_name="__main__")


def _child(request: dict[str, Any], log_fd: int) -> None:
    """In the forked child: become the container process, run, never return."""
    code = 1
    try:
        os.setsid()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # stdin is /dev/null, as for a subprocess of the executor
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # the zygote's sockets are not the job's
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _run_main(request)
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _serve_one(connection: socket.socket) -> None:
    """Read one request, fork its child, report pid then exit status on the connection."""
    with connection:
        message, fds, _flags, _address = socket.recv_fds(connection, 1 << 20, 1)
        if not fds:
            return
        request = json.loads(message.decode("utf-8"))
        pid = os.fork()
        if pid == 0:
            _child(request, fds[0])
        os.close(fds[0])
        connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        threading.Thread(target=_reap, args=(connection.dup(), pid), daemon=True).start()


def _reap(connection: socket.socket, pid: int) -> None:
    with connection:
        _pid, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"exit": code}).encode() + b"\n")


def serve(path: str) -> None:
    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            __import__(module)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        connection, _ = listener.accept()
        try:
            _serve_one(connection)
        except Exception:  # one bad request never stops the zygote
            traceback.print_exc()


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


class Zygote:
    def __init__(self, key: tuple[str, ...]) -> None:
        self.key = key
        self.folder = tempfile.mkdtemp(prefix="batchops-warm-")
        self.path = os.path.join(self.folder, "zygote.sock")
        env = {k: v for k, v in os.environ.items() if k not in IMPORT_TIME_ENV}
        env.update({k: v for k, v in zip(IMPORT_TIME_ENV, key, strict=True) if v})
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "batchops.localcloud.executor.containers.warm",
                "--socket",
                self.path,
            ],
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


_ZYGOTES: dict[tuple[str, ...], Zygote] = {}
_LOCK = threading.Lock()


def supports(argv: Sequence[str]) -> bool:
    """``python script …``, ``python -m module …`` or ``python -c code …`` (no other flags)."""
    return len(argv) > 1 and (argv[1] in ("-m", "-c") or not argv[1].startswith("-"))


def spawn(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> WarmProcess:
    """Fork ``argv`` (see :func:`supports`) from a warm zygote."""
    key = tuple(env.get(name, "") for name in IMPORT_TIME_ENV)
    with _LOCK:
        if not _ZYGOTES:
            atexit.register(stop_all)
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive():
            zygote = _ZYGOTES[key] = Zygote(key)
    return zygote.spawn(argv, cwd, env)


def stop_all() -> None:
    """Stop every zygote (at exit: children already forked keep running to their end)."""
    with _LOCK:
        for zygote in _ZYGOTES.values():
            zygote.stop()
        _ZYGOTES.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description="warm container zygote (internal)")
    parser.add_argument("--socket", required=True)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def orphaned() -> None:  # the executor's process ended (even killed): stop serving
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    serve(args.socket)


if __name__ == "__main__":
    main()


__all__ = ["WarmProcess", "enabled", "spawn", "stop_all"]
