"""Hooks: how the executor tells the rest of the cloud what happened, without knowing it.

The scheduler (:mod:`.runner`) only calls these; the side effects — EventBridge events as
SageMaker sends them, job logs copied to CloudWatch Logs — are hook implementations that
the local cloud passes in (kedro's runner/hook split). A hook's failure never changes an
execution's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from batchops.localcloud.executor.store import ExecutionRecord, StepRecord

log = logging.getLogger(__name__)


class ExecutorHooks(Protocol):
    def execution_status_changed(self, record: ExecutionRecord, previous: str | None) -> None:
        """``record.status`` changed from ``previous`` (None: the execution started)."""

    def step_status_changed(
        self, record: ExecutionRecord, step: StepRecord, previous: str | None
    ) -> None:
        """``step.status`` changed from ``previous`` (None: the step was created)."""

    def job_log_written(
        self, record: ExecutionRecord, group: str, job: str, path: Path, host: str = "algo-1"
    ) -> None:
        """A job of ``record`` finished writing the log of its instance ``host`` to ``path``."""


class FinishingHook(Protocol):
    def execution_finishing(self, record: ExecutionRecord) -> None:
        """Optional: the execution's steps are over and its final status is about to be
        recorded; a hook that works in the background finishes its work for it here."""


class HookRelay:
    """Calls every hook in order; logs (and swallows) what a hook raises."""

    def __init__(self, hooks: Sequence[ExecutorHooks]) -> None:
        self.hooks = list(hooks)

    def execution_status_changed(self, record: ExecutionRecord, previous: str | None) -> None:
        for hook in self.hooks:
            try:
                hook.execution_status_changed(record, previous)
            except Exception:
                log.exception("hook %r failed on an execution status change", hook)

    def execution_finishing(self, record: ExecutionRecord) -> None:
        for hook in self.hooks:
            finishing = getattr(hook, "execution_finishing", None)
            if finishing is None:
                continue
            try:
                finishing(record)
            except Exception:
                log.exception("hook %r failed before an execution ended", hook)

    def step_status_changed(
        self, record: ExecutionRecord, step: StepRecord, previous: str | None
    ) -> None:
        for hook in self.hooks:
            try:
                hook.step_status_changed(record, step, previous)
            except Exception:
                log.exception("hook %r failed on a step status change", hook)

    def job_log_written(
        self, record: ExecutionRecord, group: str, job: str, path: Path, host: str = "algo-1"
    ) -> None:
        for hook in self.hooks:
            try:
                hook.job_log_written(record, group, job, path, host)
            except Exception:
                log.debug("hook %r could not take the log %s", hook, path, exc_info=True)
