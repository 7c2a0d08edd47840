"""Faults the GitLab stand-in can answer triggers with, to test the approval Lambda.

* ``next(500, "timeout", 502)``: the next triggers get these answers, in order, and create
  nothing (``"timeout"``: no answer for ``timeout_delay`` seconds, then 504);
* ``fail_for(seconds, status=500)``: every trigger gets ``status`` until the time is up
  (an outage that recovers);
* ``answer_late(count, delay)``: the next ``count`` triggers *create* their pipeline, then
  answer only after ``delay`` seconds (past the client's timeout: an ambiguous outcome).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    status: int
    delay: float = 0.0
    #: True: answered instead of doing anything; False: the pipeline is created first
    before: bool = True
    message: str = "injected fault"


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: list[int | str] = []
        self._fail_until = 0.0
        self._fail_status = 500
        self._late = 0
        self._late_delay = 0.0
        self.timeout_delay = 3.0

    def next(self, *answers: int | str) -> None:
        with self._lock:
            self._next.extend(answers)

    def fail_for(self, seconds: float, status: int = 500) -> None:
        with self._lock:
            self._fail_until = time.monotonic() + seconds
            self._fail_status = status

    def answer_late(self, count: int, delay: float) -> None:
        with self._lock:
            self._late, self._late_delay = count, delay

    def clear(self) -> None:
        with self._lock:
            self._next.clear()
            self._fail_until = 0.0
            self._late = 0

    def take(self) -> Fault | None:
        """The fault for the trigger arriving now (None: answer normally)."""
        with self._lock:
            if self._next:
                answer = self._next.pop(0)
                if answer == "timeout":
                    return Fault(504, delay=self.timeout_delay, message="timeout")
                return Fault(int(answer), message=f"{answer} injected fault")
            if time.monotonic() < self._fail_until:
                status = self._fail_status
                return Fault(status, message=f"{status} injected outage")
            if self._late > 0:
                self._late -= 1
                return Fault(0, delay=self._late_delay, before=False, message="late")
        return None
