"""The warm container zygote: imports the image's libraries once, then forks one child per
container command (see :mod:`batchops.localcloud.executor.containers.warm`, its client).

This file runs as a script under the *image runtime's* interpreter (Python 3.8 for the
XGBoost 1.7-1 image), where batchops is not installed: it imports only the standard
library and keeps to Python 3.8 (no ``socket.recv_fds``, no ``os.waitstatus_to_exitcode``).
Its own folder is removed from ``sys.path`` so a step cannot import the executor's modules.
"""

from __future__ import annotations

import argparse
import array
import contextlib
import json
import os
import runpy
import signal
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import Any

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    del sys.path[0]


def _receive(connection: socket.socket) -> tuple[bytes, list[int]]:
    """One message and the file descriptors passed with it (``SCM_RIGHTS``)."""
    fds = array.array("i")
    message, ancillary, _flags, _address = connection.recvmsg(
        1 << 20, socket.CMSG_SPACE(fds.itemsize)
    )
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    return message, list(fds)


def _exit_code(status: int) -> int:
    """``os.waitstatus_to_exitcode`` (Python 3.9+): the code, or minus the signal."""
    if os.WIFSIGNALED(status):
        return -os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


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
        message, fds = _receive(connection)
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
        code = _exit_code(status)
        with contextlib.suppress(OSError):
            connection.sendall(json.dumps({"exit": code}).encode() + b"\n")


def serve(path: str, preload: list[str]) -> None:
    for module in preload:
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


def main() -> None:
    parser = argparse.ArgumentParser(description="warm container zygote (internal)")
    parser.add_argument("--socket", required=True)
    parser.add_argument("--preload", default="", help="modules to import, comma-separated")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def orphaned() -> None:  # the executor's process ended (even killed): stop serving
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    serve(args.socket, [m for m in args.preload.split(",") if m])


if __name__ == "__main__":
    main()


if __name__ == "__main__":
    main()
