"""Failed model-quality step -> one HPO retraining run in the data-science account.

The inference pipeline's model-quality step fails when the MSE on fresh ground truth
exceeds ``accuracy_mse_threshold``. Staging and production forward that event to the
data-science bus (a bus policy there allows them), where this handler starts the HPO
pipeline — unless a retrain is already running or one started within the cooldown
window (``BATCHOPS_RETRAIN_COOLDOWN_MINUTES``): a bad week of data must not start a run
per batch. The cooldown is a conditional write in the idempotency table, so two failures
arriving together start one run, and each failed execution is handled once (key = its
execution ARN). Every decision is logged and sent to the notification topic.

Environment: BATCHOPS_RETRAIN_PIPELINE_NAME, BATCHOPS_RETRAIN_COOLDOWN_MINUTES,
BATCHOPS_IDEMPOTENCY_TABLE, BATCHOPS_TOPIC_ARN; optional BATCHOPS_MODEL_QUALITY_STEP
(default: the lifecycle contract's model-quality step, CheckModelQuality).
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from batchops.functions._idempotency import IdempotencyStore
from batchops.functions._runtime import (
    MalformedEventError,
    aws_error_code,
    client,
    detail_field,
    env,
    int_setting,
    log_json,
    logger,
    require,
)
from batchops.lifecycle import MODEL_QUALITY_STEP

STEP_EVENT = "SageMaker Model Building Pipeline Execution Step Status Change"
RUNNING = ("Executing", "Stopping")

log = logger(__name__)


def _notify(topic: str, subject: str, message: str) -> None:
    client("sns").publish(TopicArn=topic, Subject=subject[:100], Message=message)


def running_execution(pipeline: str) -> str | None:
    """ARN of a running execution of ``pipeline`` (newest first), if any."""
    found = client("sagemaker").list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=20
    )
    for summary in found.get("PipelineExecutionSummaries", []):
        if summary.get("PipelineExecutionStatus") in RUNNING:
            return str(summary["PipelineExecutionArn"])
    return None


def _skip(
    store: IdempotencyStore, key: str, *, topic: str, pipeline: str, source: str, reason: str
) -> dict[str, Any]:
    log_json(
        log,
        logging.WARNING,
        "retraining not started",
        reason=reason,
        source_execution=source,
        pipeline=pipeline,
    )
    try:
        _notify(
            topic,
            f"[batchops] retraining of {pipeline} not started",
            f"A model-quality check failed ({source}), but retraining was not started: {reason}.",
        )
    except Exception:
        store.release(key)
        raise
    store.complete(key, outcome="skipped", reason=reason)
    return {"status": "skipped", "reason": reason, "source_execution": source}


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    step_name = env().get("BATCHOPS_MODEL_QUALITY_STEP", "") or MODEL_QUALITY_STEP
    if event.get("detail-type") != STEP_EVENT:
        log_json(
            log,
            logging.INFO,
            "ignored: not a step status change",
            detail_type=event.get("detail-type"),
        )
        return {"status": "ignored", "reason": "not a step status change"}
    try:
        step = detail_field(event, "stepName")
        status = detail_field(event, "currentStepStatus")
        source = str(detail_field(event, "pipelineExecutionArn"))
    except MalformedEventError as exc:
        log_json(log, logging.ERROR, "malformed event", error=str(exc), event_id=event.get("id"))
        raise
    if step != step_name or status != "Failed":
        log_json(
            log, logging.INFO, "ignored: not a failed model-quality step", step=step, status=status
        )
        return {"status": "ignored", "reason": f"step {step} {status}"}
    pipeline = require("BATCHOPS_RETRAIN_PIPELINE_NAME")
    topic = require("BATCHOPS_TOPIC_ARN")
    cooldown = int_setting("BATCHOPS_RETRAIN_COOLDOWN_MINUTES", 60)
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    key = f"retrain#{source}"
    if store.claim(key, source_execution=source).outcome == "done":
        log_json(
            log,
            logging.INFO,
            "duplicate: this failure was already handled",
            source_execution=source,
        )
        return {"status": "duplicate", "source_execution": source}
    try:
        running = running_execution(pipeline)
    except Exception:
        store.release(key)
        raise
    if running:
        reason = f"a retraining run is in progress ({running})"
        return _skip(store, key, topic=topic, pipeline=pipeline, source=source, reason=reason)
    now = int(time.time())
    lock = f"retrain-cooldown#{pipeline}"
    if not store.put_if_older(
        lock, field="started_at", newer_than=now - cooldown * 60, source_execution=source
    ):
        last = store.get(lock).get("started_at", 0)
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(last)))
        reason = (
            f"cooldown: the last retraining started at {when}, within the {cooldown}-minute window"
        )
        return _skip(store, key, topic=topic, pipeline=pipeline, source=source, reason=reason)
    try:
        started = client("sagemaker").start_pipeline_execution(
            PipelineName=pipeline,
            PipelineExecutionDisplayName=f"retrain-{now}",
            PipelineExecutionDescription=f"Retraining after model-quality failure in {source}"[
                :3072
            ],
            ClientRequestToken=hashlib.sha256(source.encode()).hexdigest()[:64],
        )
    except Exception as exc:
        store.delete(lock)
        store.release(key)
        log_json(
            log,
            logging.ERROR,
            "cannot start the retraining pipeline",
            pipeline=pipeline,
            error=aws_error_code(exc) or str(exc),
        )
        raise
    execution = str(started["PipelineExecutionArn"])
    store.complete(key, outcome="started", execution_arn=execution)
    log_json(
        log,
        logging.INFO,
        "retraining started",
        pipeline=pipeline,
        execution_arn=execution,
        source_execution=source,
    )
    try:
        _notify(
            topic,
            f"[batchops] retraining of {pipeline} started",
            f"A model-quality check failed ({source}); started {execution}.",
        )
    except Exception as exc:  # the run is started; a lost e-mail must not start another
        log_json(log, logging.ERROR, "notification failed", error=str(exc))
    return {"status": "started", "execution_arn": execution, "source_execution": source}
