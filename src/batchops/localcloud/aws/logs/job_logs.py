"""Copy each SageMaker job's log into CloudWatch Logs, where AWS keeps them (a hook)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.localcloud.executor.store import ExecutionRecord, StepRecord

#: CloudWatch's PutLogEvents takes at most 10,000 events per call.
_BATCH = 5000


class JobLogsToCloudWatch:
    def __init__(self, logs_client: Callable[[ExecutionRecord], Any]) -> None:
        """``logs_client(record)``: a CloudWatch Logs client in the execution's account."""
        self.logs_client = logs_client

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
        logs = self.logs_client(record)
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_group(logGroupName=group)
        now = datetime.now(UTC)
        stream = f"{job}/{host}-{int(now.timestamp())}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        stamp = int(now.timestamp() * 1000)
        for start in range(0, len(lines), _BATCH):
            chunk = [
                {"timestamp": stamp, "message": line or " "}
                for line in lines[start : start + _BATCH]
            ]
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=chunk)
