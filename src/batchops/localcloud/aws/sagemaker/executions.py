"""SageMaker pipeline executions, run by the local cloud's executor.

moto stores pipeline definitions but answers ``StartPipelineExecution`` with "Succeeded" and
runs nothing. Here ``StartPipelineExecution`` queues the execution for the executor
(idempotent on ``ClientRequestToken``); ``Describe``/``List`` executions,
``ListPipelineExecutionSteps``, ``StopPipelineExecution`` and the definition/parameters of an
execution answer from the executor's records. Each handler parses the request and calls the
execution store or the executor of the request's local cloud.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from batchops.localcloud.aws.context import current_cloud


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemaker.utils import get_pipeline_from_name

    from batchops.localcloud.executor.store import ExecutionRecord

    def _record(self: Any) -> ExecutionRecord:
        arn = self._get_param("PipelineExecutionArn")
        record = current_cloud().store.get(arn)
        if record is None or record.account_id != self.current_account:
            raise ResourceNotFound(f"Pipeline execution {arn} does not exist")
        return record

    def start_pipeline_execution(self: Any) -> Any:
        name = self._get_param("PipelineName")
        backend = self.sagemaker_backend
        try:
            pipeline = get_pipeline_from_name(backend.pipelines, name)
        except Exception:
            raise ResourceNotFound(f"Pipeline {name} does not exist") from None
        token = self._get_param("ClientRequestToken")
        if token:
            existing = current_cloud().store.find_token(pipeline.arn, token)
            if existing:
                return ActionResult({"PipelineExecutionArn": existing.arn})
        params = self._get_param("PipelineParameters") or []
        bad = [p for p in params if not isinstance(p, dict) or "Name" not in p or "Value" not in p]
        if bad:
            raise ValidationError("PipelineParameters entries need Name and Value")
        execution_id = uuid.uuid4().hex[:12]
        arn = f"{pipeline.arn}/execution/{execution_id}"
        parallel = (
            self._get_param("ParallelismConfiguration") or pipeline.parallelism_configuration or {}
        )
        record = ExecutionRecord(
            arn=arn,
            execution_id=execution_id,
            pipeline_name=pipeline.pipeline_name,
            pipeline_arn=pipeline.arn,
            account_id=self.current_account,
            region=self.region,
            definition=pipeline.pipeline_definition,
            role_arn=pipeline.role_arn,
            parameters=[{"Name": p["Name"], "Value": str(p["Value"])} for p in params],
            display_name=self._get_param("PipelineExecutionDisplayName")
            or f"execution-{execution_id}",
            description=self._get_param("PipelineExecutionDescription") or "",
            client_request_token=token,
            parallelism=(parallel or {}).get("MaxParallelExecutionSteps"),
        )
        pipeline.last_execution_time = record.created
        current_cloud().executor.submit(record)
        return ActionResult({"PipelineExecutionArn": arn})

    def describe_pipeline_execution(self: Any) -> Any:
        return ActionResult(_record(self).describe())

    def list_pipeline_executions(self: Any) -> Any:
        name = self._get_param("PipelineName")
        try:
            pipeline = get_pipeline_from_name(self.sagemaker_backend.pipelines, name)
        except Exception:
            raise ResourceNotFound(f"Pipeline {name} does not exist") from None
        records = current_cloud().store.for_pipeline(pipeline.arn)
        if self._get_param("SortOrder") == "Ascending":
            records.reverse()
        limit = int(self._get_param("MaxResults") or 100)
        return ActionResult({"PipelineExecutionSummaries": [r.summary() for r in records[:limit]]})

    def list_pipeline_execution_steps(self: Any) -> Any:
        record = _record(self)
        with current_cloud().store.lock:
            steps = [s.api() for s in record.steps.values()]
        steps.sort(
            key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC), reverse=True
        )
        if self._get_param("SortOrder") == "Ascending":
            steps.reverse()
        return ActionResult({"PipelineExecutionSteps": steps})

    def stop_pipeline_execution(self: Any) -> Any:
        record = _record(self)
        current_cloud().executor.stop(record.arn)
        return ActionResult({"PipelineExecutionArn": record.arn})

    def describe_pipeline_definition_for_execution(self: Any) -> Any:
        record = _record(self)
        return ActionResult(
            {"PipelineDefinition": record.definition, "CreationTime": record.created}
        )

    def list_pipeline_parameters_for_execution(self: Any) -> Any:
        record = _record(self)
        values = record.resolved_parameters or {p["Name"]: p["Value"] for p in record.parameters}
        from batchops.localcloud.executor.expressions import stringify

        return ActionResult(
            {"PipelineParameters": [{"Name": k, "Value": stringify(v)} for k, v in values.items()]}
        )

    for function in (
        start_pipeline_execution,
        describe_pipeline_execution,
        list_pipeline_executions,
        list_pipeline_execution_steps,
        stop_pipeline_execution,
        describe_pipeline_definition_for_execution,
        list_pipeline_parameters_for_execution,
    ):
        setattr(SageMakerResponse, function.__name__, function)
