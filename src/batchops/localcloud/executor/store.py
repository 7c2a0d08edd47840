"""Records of pipeline executions and their steps, as the SageMaker API reports them.

The server answers ``DescribePipelineExecution``, ``ListPipelineExecutions`` and
``ListPipelineExecutionSteps`` from these records (moto has no steps at all), and every
change is also written to ``<state>/executions/<id>.json`` (atomic), so a run can be
inspected after the local cloud stopped and a restarted local cloud on the same state
folder serves them again (:meth:`ExecutionStore.load`). An execution that was still running
when the local cloud died is marked ``Failed`` with the reason (:meth:`ExecutionStore.interrupted`).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from batchops.fs import atomic_write_json

TERMINAL = frozenset({"Succeeded", "Failed", "Stopped"})


def now() -> datetime:
    return datetime.now(UTC)


@dataclass
class StepRecord:
    name: str
    type: str
    status: str = "Starting"
    start_time: datetime | None = None
    end_time: datetime | None = None
    failure_reason: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    property_files: dict[str, str] = field(default_factory=dict)
    log_path: str | None = None

    def api(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "StepName": self.name,
            "StepDisplayName": self.name,
            "StepStatus": self.status,
            "AttemptCount": 1,
            "Metadata": self.metadata,
        }
        if self.start_time:
            item["StartTime"] = self.start_time
        if self.end_time:
            item["EndTime"] = self.end_time
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        return item


@dataclass
class ExecutionRecord:
    arn: str
    execution_id: str
    pipeline_name: str
    pipeline_arn: str
    account_id: str
    region: str
    definition: str
    role_arn: str | None
    parameters: list[dict[str, str]]
    display_name: str
    description: str = ""
    client_request_token: str | None = None
    status: str = "Executing"
    failure_reason: str | None = None
    created: datetime = field(default_factory=now)
    ended: datetime | None = None
    last_modified: datetime = field(default_factory=now)
    resolved_parameters: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, StepRecord] = field(default_factory=dict)
    parallelism: int | None = None

    def summary(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PipelineExecutionArn": self.arn,
            "StartTime": self.created,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionDescription": self.description,
        }
        if self.failure_reason:
            item["PipelineExecutionFailureReason"] = self.failure_reason
        return item

    def describe(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDescription": self.description,
            "PipelineExperimentConfig": {
                "ExperimentName": self.pipeline_name,
                "TrialName": self.execution_id,
            },
            "CreationTime": self.created,
            "LastModifiedTime": self.last_modified,
        }
        if self.failure_reason:
            item["FailureReason"] = self.failure_reason
        if self.parallelism:
            item["ParallelismConfiguration"] = {"MaxParallelExecutionSteps": self.parallelism}
        return item

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for step in data["steps"].values():
            step.pop("properties", None)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExecutionRecord:
        """The record :meth:`to_json` wrote (step properties are not kept)."""
        fields = dict(data)
        for name in ("created", "ended", "last_modified"):
            fields[name] = _moment(fields.get(name))
        steps = {}
        for name, saved in (fields.pop("steps", None) or {}).items():
            step = dict(saved)
            for moment in ("start_time", "end_time"):
                step[moment] = _moment(step.get(moment))
            steps[name] = StepRecord(**step)
        fields["steps"] = steps
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in fields.items() if k in known})


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


class ExecutionStore:
    def __init__(self, state_dir: Path) -> None:
        self._dir = state_dir / "executions"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._records: dict[str, ExecutionRecord] = {}

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def add(self, record: ExecutionRecord) -> None:
        with self._lock:
            self._records[record.arn] = record
            self.save(record)

    def get(self, arn: str) -> ExecutionRecord | None:
        with self._lock:
            return self._records.get(arn)

    def find_token(self, pipeline_arn: str, token: str) -> ExecutionRecord | None:
        with self._lock:
            for record in self._records.values():
                if record.pipeline_arn == pipeline_arn and record.client_request_token == token:
                    return record
        return None

    def for_pipeline(self, pipeline_arn: str) -> list[ExecutionRecord]:
        with self._lock:
            records = [r for r in self._records.values() if r.pipeline_arn == pipeline_arn]
        return sorted(records, key=lambda r: r.created, reverse=True)

    def all(self) -> list[ExecutionRecord]:
        with self._lock:
            return sorted(self._records.values(), key=lambda r: r.created)

    def save(self, record: ExecutionRecord) -> None:
        with self._lock:
            record.last_modified = now()
            atomic_write_json(self._dir / f"{record.execution_id}.json", record.to_json())

    def load(self) -> int:
        """Read the records a previous run of this state folder wrote; returns how many."""
        import json
        import logging

        loaded = 0
        for path in sorted(self._dir.glob("*.json")):
            try:
                record = ExecutionRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, TypeError) as exc:
                logging.getLogger(__name__).error(
                    "execution record %s is unreadable (%s); skipped", path, exc
                )
                continue
            with self._lock:
                self._records[record.arn] = record
            loaded += 1
        return loaded

    def interrupted(self) -> list[ExecutionRecord]:
        """Records a previous run left ``Executing``/``Stopping`` (it died meanwhile)."""
        with self._lock:
            return [r for r in self._records.values() if r.status not in TERMINAL]

    def mark_interrupted(self, record: ExecutionRecord, reason: str) -> str:
        """Fail ``record`` and its unfinished steps with ``reason``; returns the old status."""
        with self._lock:
            previous = record.status
            moment = now()
            for step in record.steps.values():
                if step.status not in TERMINAL:
                    step.status = "Failed"
                    step.end_time = moment
                    step.failure_reason = reason
            record.status = "Stopped" if previous == "Stopping" else "Failed"
            record.failure_reason = reason
            record.ended = moment
            self.save(record)
        return previous

    def logs_dir(self, record: ExecutionRecord) -> Path:
        folder = self._dir / record.execution_id
        folder.mkdir(parents=True, exist_ok=True)
        return folder
