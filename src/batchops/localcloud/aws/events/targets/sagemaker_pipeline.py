"""SageMaker pipeline targets: start the pipeline with ``SageMakerPipelineParameters``.

``$.path`` values are resolved from the event, as EventBridge's dynamic path parameters
are; the execution is started with the target's role, idempotent per event and target.
"""

from __future__ import annotations

import uuid
from typing import Any

from batchops.localcloud.aws.events.targets.credentials import RoleSessions
from batchops.localcloud.aws.events.targets.errors import PermanentDeliveryError
from batchops.localcloud.aws.events.targets.payload import json_path


def start_pipeline(
    event: dict[str, Any],
    target: dict[str, Any],
    *,
    account: str,
    region: str,
    arn: str,
    sessions: RoleSessions,
) -> Any:
    role = target.get("RoleArn") or f"arn:aws:iam::{account}:role/batchops-deploy"
    parameters = []
    for entry in (target.get("SageMakerPipelineParameters") or {}).get("PipelineParameterList", []):
        value = entry["Value"]
        if isinstance(value, str) and value.startswith("$."):
            value = json_path(event, value)
            if value is None:
                raise PermanentDeliveryError(
                    f"parameter {entry['Name']}: {entry['Value']} not in event"
                )
        parameters.append({"Name": entry["Name"], "Value": str(value)})
    started = (
        sessions.clients(role, region)
        .client("sagemaker")
        .start_pipeline_execution(
            PipelineName=arn.rsplit("/", 1)[1],
            PipelineParameters=parameters,
            PipelineExecutionDisplayName=f"event-{str(event.get('id', ''))[:8]}",
            ClientRequestToken=f"{event.get('id', uuid.uuid4())}-{target.get('Id', '')}"[:128],
        )
    )
    return {"pipeline_execution_arn": started["PipelineExecutionArn"]}
