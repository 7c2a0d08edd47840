"""How long and how often a failed delivery is retried — as AWS documents it, per target kind.

Two services retry on AWS, and the local router follows both:

* **EventBridge** retries a target it could not deliver to (throttled, unreachable, 5xx) as
  the target's ``RetryPolicy`` says — by default for 24 hours and up to 185 times, with
  exponential back-off and jitter ("How EventBridge retries delivering events", EventBridge
  User Guide). Errors a retry cannot fix (the target does not exist, permission denied, other
  4xx) go to the target's dead-letter queue at once, without retries.
* **Lambda** is invoked *asynchronously* by EventBridge: once the event is handed to Lambda,
  a *function error* is Lambda's to retry — by default two more times, one minute after the
  first attempt and two minutes after the second, within six hours — as the function's
  ``EventInvokeConfig`` says (``MaximumRetryAttempts`` 0 to 2, ``MaximumEventAgeInSeconds``
  60 to 21600); then the event goes to the function's dead-letter queue (``DeadLetterConfig``)
  or on-failure destination ("How Lambda handles errors and retries with asynchronous
  invocation", Lambda Developer Guide). EventBridge's RetryPolicy does not apply to it.

Delays are AWS's; ``scale`` shrinks them for tests (the local cloud's ``retry_time_scale``).
"""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: EventBridge's documented defaults for a rule target
EVENTBRIDGE_MAX_RETRIES = 185
EVENTBRIDGE_MAX_AGE_S = 24 * 3600
#: Lambda's documented defaults for asynchronous invocation
LAMBDA_MAX_RETRIES = 2
LAMBDA_MAX_AGE_S = 6 * 3600
LAMBDA_DELAYS_S = (60.0, 120.0)
#: EventBridge does not publish its back-off; ours: 1 s doubling, at most 5 minutes apart
EVENTBRIDGE_FIRST_DELAY_S = 1.0
EVENTBRIDGE_MAX_DELAY_S = 300.0


@dataclass(frozen=True)
class RetryPolicy:
    kind: str  # "eventbridge" | "lambda-async"
    max_retries: int
    max_age_s: float
    scale: float = 1.0

    @classmethod
    def of_target(cls, target: dict[str, Any], scale: float = 1.0) -> RetryPolicy:
        policy = target.get("RetryPolicy") or {}
        return cls(
            "eventbridge",
            int(policy.get("MaximumRetryAttempts", EVENTBRIDGE_MAX_RETRIES)),
            float(policy.get("MaximumEventAgeInSeconds", EVENTBRIDGE_MAX_AGE_S)),
            scale,
        )

    @classmethod
    def of_function(cls, config: dict[str, Any] | None, scale: float = 1.0) -> RetryPolicy:
        config = config or {}
        return cls(
            "lambda-async",
            int(config.get("MaximumRetryAttempts", LAMBDA_MAX_RETRIES)),
            float(config.get("MaximumEventAgeInSeconds", LAMBDA_MAX_AGE_S)),
            scale,
        )

    def delay(self, retry: int) -> float:
        """Seconds before retry number ``retry`` (1 = the first retry)."""
        if self.kind == "lambda-async":
            base = LAMBDA_DELAYS_S[min(retry, len(LAMBDA_DELAYS_S)) - 1]
            return base * self.scale
        ceiling = min(EVENTBRIDGE_MAX_DELAY_S, EVENTBRIDGE_FIRST_DELAY_S * 2 ** (retry - 1))
        return (ceiling / 2 + random.uniform(0, ceiling / 2)) * self.scale

    def exhausted(self, retries_done: int, age_s: float) -> str | None:
        """Why no further retry happens (AWS's ``EXHAUSTED_RETRY_CONDITION``), or None."""
        if retries_done >= self.max_retries:
            return "MaximumRetryAttempts"
        if age_s >= self.max_age_s * self.scale:
            return "MaximumEventAgeInSeconds"
        return None


class RetryScheduler:
    """Runs ``action()`` when it is due, on a worker thread — never blocking a delivery lane."""

    def __init__(self, run: Callable[[Callable[[], None]], None]) -> None:
        self._run = run
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._counter = itertools.count()
        self._cv = threading.Condition()
        self._handing = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="router-retries", daemon=True)
        self._thread.start()

    def __len__(self) -> int:
        """Retries waiting, plus one being handed over to a worker right now."""
        with self._cv:
            return len(self._heap) + self._handing

    def later(self, delay_s: float, action: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._counter), action))
            self._cv.notify()

    def due_in(self) -> float | None:
        with self._cv:
            return self._heap[0][0] - time.monotonic() if self._heap else None

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                _due, _n, action = heapq.heappop(self._heap)
                self._handing += 1
            try:
                self._run(action)
            finally:
                with self._cv:
                    self._handing -= 1
