"""Step processes the executor started, on disk, so that a restarted local cloud can stop them.

A step's container is a process in its own session (its process group is its pid). While it
runs, ``<execution logs>/processes/<pid>.json`` names it with its start time as the kernel
reports it, so a pid the system has since given to an unrelated process is never signalled.
A local cloud killed with ``kill -9`` leaves these files behind; on restart the interrupted
execution's processes are stopped (SIGTERM to the group, SIGKILL after a grace period).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from batchops.fs import atomic_write_json


def start_token(pid: int) -> str | None:
    """When ``pid`` started, as the OS reports it (None: no such process)."""
    if sys.platform.startswith("linux"):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return None
        # field 22 (starttime) counts from after the command name, which may hold spaces
        return stat.rsplit(")", 1)[-1].split()[19]
    try:
        found = subprocess.run(
            ["ps", "-o", "lstart=", "-p", str(pid)],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found.stdout.strip() or None


class ProcessLedger:
    """The pid files of one execution's running step processes."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def record(self, pid: int, step: str) -> Path:
        path = self.folder / f"{pid}.json"
        atomic_write_json(path, {"pid": pid, "step": step, "start": start_token(pid)})
        return path

    @staticmethod
    def forget(path: Path | None) -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    def alive(self) -> list[dict[str, object]]:
        """Recorded processes that still run (same pid, same start time)."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                path.unlink(missing_ok=True)
                continue
            pid = int(entry.get("pid", 0))
            if pid > 0 and entry.get("start") and start_token(pid) == entry.get("start"):
                found.append(entry)
            else:
                path.unlink(missing_ok=True)
        return found

    def stop_all(self, grace_s: float = 3.0) -> list[dict[str, object]]:
        """Stop every recorded process still running; returns what was stopped."""
        running = self.alive()
        for entry in running:
            _signal_group(int(str(entry["pid"])), signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(
            start_token(int(str(e["pid"]))) == e["start"] for e in running
        ):
            time.sleep(0.05)
        for entry in running:
            if start_token(int(str(entry["pid"]))) == entry["start"]:
                _signal_group(int(str(entry["pid"])), signal.SIGKILL)
            (self.folder / f"{entry['pid']}.json").unlink(missing_ok=True)
        return running


def _signal_group(pid: int, number: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, number)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, number)
