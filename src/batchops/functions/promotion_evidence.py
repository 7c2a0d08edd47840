"""Staging inference run ended -> its outcome recorded on the model version it ran.

Runs in the staging account on *SageMaker Model Building Pipeline Execution Status Change*
events of the inference pipeline that reach Succeeded, Failed or Stopped (rule
``inference-run-to-promotion-evidence``). It finds the model package the run was pinned
to (the execution's ``ModelPackageArn`` parameter: an override, else the definition's
default that ``batchops deploy`` stamped) and writes the run's ARN, status and end time on
that package in the central registry (:mod:`batchops.promotion`), where the production
deploy reads them without any access to staging. Idempotent: a redelivered or late event
never replaces a newer run.

Environment: BATCHOPS_MODEL_PACKAGE_GROUP_ARN (the registry group; a run pinned to
another group records nothing).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from batchops import promotion
from batchops.functions._runtime import (
    MalformedEventError,
    client,
    detail_field,
    log_json,
    logger,
    require,
)

EXECUTION_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
log = logger(__name__)


def pinned_package(execution_arn: str) -> str | None:
    """The ``ModelPackageArn`` an execution ran with."""
    sm = client("sagemaker")
    listed = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=execution_arn)
    for parameter in listed.get("PipelineParameters", []):
        if parameter["Name"] == "ModelPackageArn":
            return str(parameter["Value"])
    definition = json.loads(
        sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution_arn)[
            "PipelineDefinition"
        ]
    )
    for parameter in definition.get("Parameters", []):
        if parameter.get("Name") == "ModelPackageArn":
            return str(parameter.get("DefaultValue"))
    return None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("detail-type") != EXECUTION_EVENT:
        raise MalformedEventError(f"event {event.get('id', '?')}: not a {EXECUTION_EVENT!r}")
    execution = str(detail_field(event, "pipelineExecutionArn"))
    status = str(detail_field(event, "currentPipelineExecutionStatus"))
    if status not in promotion.ENDED:
        return {"recorded": False, "reason": f"run is {status}"}
    group = require("BATCHOPS_MODEL_PACKAGE_GROUP_ARN")
    package = pinned_package(execution)
    packages = group.replace(":model-package-group/", ":model-package/") + "/"
    if not package or not package.lower().startswith(packages.lower()):
        log_json(log, logging.INFO, "run not pinned to our group", execution=execution)
        return {"recorded": False, "reason": f"pinned to {package!r}, not {group}"}
    at = str(event.get("detail", {}).get("executionEndTime") or event.get("time") or "")
    recorded = promotion.record_staging_run(
        client("sagemaker"), package, execution, status, at or promotion.now()
    )
    log_json(
        log, logging.INFO, "staging run recorded" if recorded else "newer run already recorded",
        execution=execution, status=status, model_package_arn=package,
    )  # fmt: skip
    return {"recorded": recorded, "model_package_arn": package, "status": status}
