"""Copy each SageMaker job's log into CloudWatch Logs, where AWS keeps them (a hook).

AWS delivers a job's log to CloudWatch while the job runs, not as part of it, so the copy
is not on the step's path here either: the hook reads the log file at once (the workspace
may be removed after the step) and one shipper thread sends it, in the order the jobs
wrote them. Before an execution's final status is recorded the executor calls
:meth:`JobLogsToCloudWatch.execution_finishing`, which waits for that execution's logs, so
a client that sees the execution ended finds every job's log in CloudWatch.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.executor.store import ExecutionRecord, StepRecord

log = logging.getLogger(__name__)

#: CloudWatch's PutLogEvents takes at most 10,000 events per call.
_BATCH = 5000
#: how long an ending execution waits for its logs to be copied
_DRAIN_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class _Shipment:
    record: ExecutionRecord
    group: str
    stream: str
    stamp: int
    lines: list[str]


class JobLogsToCloudWatch:
    def __init__(self, logs_client: Callable[[ExecutionRecord], Any]) -> None:
        """``logs_client(record)``: a CloudWatch Logs client in the execution's account."""
        self.logs_client = logs_client
        self._queue: queue.Queue[_Shipment] = queue.Queue()
        self._lock = threading.Lock()
        self._pending: dict[str, int] = {}  # execution ARN -> logs not yet copied
        self._done = threading.Condition(self._lock)
        self._groups: set[tuple[str, str]] = set()  # (account, group) known to exist
        self._worker: threading.Thread | None = None

    def execution_status_changed(self, record: ExecutionRecord, previous: str | None) -> None:
        return None

    def step_status_changed(
        self, record: ExecutionRecord, step: StepRecord, previous: str | None
    ) -> None:
        return None

    def job_log_written(
        self, record: ExecutionRecord, group: str, job: str, path: Path, host: str = "algo-1"
    ) -> None:
        lines = (
            path.read_text(encoding="utf-8", errors="replace").splitlines() if path.exists() else []
        )
        now = datetime.now(UTC)
        stream = f"{job}/{host}-{int(now.timestamp())}"
        shipment = _Shipment(record, group, stream, int(now.timestamp() * 1000), lines)
        with self._lock:
            self._pending[record.arn] = self._pending.get(record.arn, 0) + 1
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(
                    target=self._ship_forever, name="job-logs", daemon=True
                )
                self._worker.start()
        self._queue.put(shipment)

    def execution_finishing(self, record: ExecutionRecord) -> None:
        """Wait until every log of ``record``'s jobs is in CloudWatch (or the wait times out)."""
        with self._done:
            if not self._done.wait_for(
                lambda: not self._pending.get(record.arn), timeout=_DRAIN_TIMEOUT_S
            ):
                log.warning("job logs of %s still being copied to CloudWatch", record.arn)

    def _ship_forever(self) -> None:
        while True:
            shipment = self._queue.get()
            try:
                self._ship(shipment)
            except Exception:
                log.debug("job log %s not copied to CloudWatch", shipment.stream, exc_info=True)
            finally:
                with self._done:
                    arn = shipment.record.arn
                    self._pending[arn] -= 1
                    if not self._pending[arn]:
                        del self._pending[arn]
                    self._done.notify_all()

    @staticmethod
    def _create_group(logs: Any, group: str) -> None:
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)

    def _ship(self, shipment: _Shipment) -> None:
        logs = self.logs_client(shipment.record)
        group = shipment.group
        known = (shipment.record.account_id, group)
        if known not in self._groups:
            self._create_group(logs, group)
            self._groups.add(known)
        try:
            logs.create_log_stream(logGroupName=group, logStreamName=shipment.stream)
        except logs.exceptions.ResourceNotFoundException:  # the group was deleted since
            self._create_group(logs, group)
            logs.create_log_stream(logGroupName=group, logStreamName=shipment.stream)
        lines = shipment.lines
        for start in range(0, len(lines), _BATCH):
            chunk = [
                {"timestamp": shipment.stamp, "message": line or " "}
                for line in lines[start : start + _BATCH]
            ]
            logs.put_log_events(logGroupName=group, logStreamName=shipment.stream, logEvents=chunk)
