"""The EventBridge events SageMaker sends for pipeline executions and their steps.

An executor hook: every status change the executor reports becomes the event AWS
documents, on the local cloud's bus.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from batchops.localcloud.aws.events.envelope import (
    pipeline_execution_status_change,
    pipeline_step_status_change,
)
from batchops.localcloud.executor.store import ExecutionRecord, StepRecord


class PipelineStatusEvents:
    def __init__(self, emit: Callable[[dict[str, Any]], None]) -> None:
        self.emit = emit

    def execution_status_changed(self, record: ExecutionRecord, previous: str | None) -> None:
        self.emit(
            pipeline_execution_status_change(
                account=record.account_id,
                region=record.region,
                pipeline_arn=record.pipeline_arn,
                execution_arn=record.arn,
                display_name=record.display_name,
                status=record.status,
                previous=previous,
                started=record.created,
                ended=record.ended,
                description=record.description,
                failure_reason=record.failure_reason,
            )
        )

    def step_status_changed(
        self, record: ExecutionRecord, step: StepRecord, previous: str | None
    ) -> None:
        self.emit(
            pipeline_step_status_change(
                account=record.account_id,
                region=record.region,
                pipeline_arn=record.pipeline_arn,
                execution_arn=record.arn,
                step_name=step.name,
                step_type=step.type,
                status=step.status,
                previous=previous,
                started=step.start_time,
                ended=step.end_time,
                metadata=step.metadata,
                failure_reason=step.failure_reason,
            )
        )

    def job_log_written(
        self, record: ExecutionRecord, group: str, job: str, path: Path, host: str = "algo-1"
    ) -> None:
        return None
