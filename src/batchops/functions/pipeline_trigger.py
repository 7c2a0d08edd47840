"""New data in S3 -> one run of the account's pipeline per object version, never two.

S3 sends one *Object Created* event per object version, but delivers it at least once
("Amazon S3 event notifications are designed to be delivered at least once", S3 User
Guide), and EventBridge may deliver an event more than once too. A rule that targeted the
pipeline directly would start a run per delivery: two training runs, two model versions.
This handler sits between: the object version (bucket, key, ``version-id`` — or the
``etag`` and ``sequencer`` on an unversioned bucket) is claimed in the idempotency table, and
the run is started with a ``ClientRequestToken`` derived from it, so SageMaker itself refuses
a second start for the same bytes ("An idempotent operation completes no more than once").

For the inference pipeline (``BATCHOPS_REQUIRE_APPROVED_MODEL=true``) it also checks that the
model version the pipeline is pinned to is still ``Approved`` in the central registry: a
version rejected after its deployment does not score another batch; the team is told, and
the rejection's own deploy pipeline puts the previous approved version back.

A schedule goes through it too (``shared-modules/pipeline-schedules`` targets this function
for the inference schedule, not the pipeline): EventBridge Scheduler invokes it with
:data:`SCHEDULE_SOURCE` / :data:`SCHEDULED` and the schedule's context attributes
(``<aws.scheduler.scheduled-time>``, ``<aws.scheduler.schedule-arn>``), so a scheduled run
is refused like an S3-started one when the pinned version is no longer approved (the team
is told; the next scheduled time tries again), and one scheduled time starts one run
however often Scheduler retries it.

Environment: BATCHOPS_PIPELINE_NAME, BATCHOPS_IDEMPOTENCY_TABLE, BATCHOPS_TOPIC_ARN;
optional BATCHOPS_REQUIRE_APPROVED_MODEL (default false).
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from batchops.functions._idempotency import IdempotencyStore
from batchops.functions._runtime import (
    HandlerError,
    PermanentError,
    aws_error_code,
    client,
    detail_field,
    env,
    log_json,
    logger,
    require,
)

OBJECT_CREATED = "Object Created"
#: the input ``shared-modules/pipeline-schedules`` gives EventBridge Scheduler
SCHEDULE_SOURCE = "batchops.scheduler"
SCHEDULED = "Scheduled Pipeline Run"
log = logger(__name__)


class PipelineMissingError(PermanentError):
    """The pipeline to start does not exist (not upserted yet)."""


def object_version(event: dict[str, Any]) -> tuple[str, str, str]:
    """(bucket, key, identity of the bytes): the version id, else etag + sequencer."""
    bucket = str(detail_field(event, "bucket", "name"))
    key = str(detail_field(event, "object", "key"))
    found = event["detail"]["object"]
    version = found.get("version-id")
    if version and version != "null":
        return bucket, key, f"version:{version}"
    etag = found.get("etag") or ""
    sequencer = found.get("sequencer") or ""
    if not etag and not sequencer:
        raise HandlerError(
            f"event {event.get('id')}: object {key} has no version-id, etag or sequencer"
        )
    return bucket, key, f"etag:{etag}:{sequencer}"


def pinned_model(pipeline: str) -> str | None:
    """The model package ARN the pipeline's definition pins (its ModelPackageArn default)."""
    described = client("sagemaker").describe_pipeline(PipelineName=pipeline)
    definition = json.loads(described.get("PipelineDefinition") or "{}")
    for parameter in definition.get("Parameters", []):
        if parameter.get("Name") == "ModelPackageArn":
            value = parameter.get("DefaultValue")
            return str(value) if value else None
    return None


def approval_refusal(pipeline: str) -> str | None:
    """Why the pipeline must not run now (its model is no longer approved), or None."""
    arn = pinned_model(pipeline)
    if not arn or not arn.startswith("arn:"):
        return f"{pipeline} pins no model version (deploy one with `batchops deploy`)"
    try:
        package = client("sagemaker").describe_model_package(ModelPackageName=arn)
    except Exception as exc:
        code = aws_error_code(exc) or type(exc).__name__
        raise HandlerError(f"cannot read the pinned model version {arn}: {code}") from None
    status = package.get("ModelApprovalStatus")
    if status != "Approved":
        return (
            f"the model version it runs ({arn}) is {status} now; deploy an approved version "
            "(`batchops deploy --env ENV` takes the latest approved)"
        )
    return None


def _notify(subject: str, message: str) -> None:
    topic = env().get("BATCHOPS_TOPIC_ARN", "").strip()
    if topic:
        client("sns").publish(TopicArn=topic, Subject=subject[:100], Message=message)


class RunRefusedError(HandlerError):
    """The pinned model is no longer approved: the batch waits (retried, then dead-lettered;
    ``batchops events redrive`` scores it once an approved version is deployed)."""


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("source") == SCHEDULE_SOURCE and event.get("detail-type") == SCHEDULED:
        return scheduled(event)
    if event.get("detail-type") != OBJECT_CREATED or event.get("source") != "aws.s3":
        return {"status": "ignored", "reason": "not an S3 Object Created event"}
    pipeline = require("BATCHOPS_PIPELINE_NAME")
    bucket, key, identity = object_version(event)
    where = f"s3://{bucket}/{key}"
    claim_key = f"start#{pipeline}#{where}#{identity}"
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    claim = store.claim(claim_key, object=where)
    refused_before = claim.outcome == "done" and claim.item.get("outcome") == "refused"
    if claim.outcome == "done" and not refused_before:
        log_json(
            log,
            logging.INFO,
            "duplicate: this object version already started a run",
            object=where,
            execution=claim.item.get("execution_arn"),
        )
        return {"status": "duplicate", "execution_arn": claim.item.get("execution_arn")}
    try:
        refusal = _refusal(pipeline)
        if refusal:
            log_json(log, logging.WARNING, "run refused", pipeline=pipeline, reason=refusal)
            if not refused_before:  # tell people once, not on every retry
                _notify(
                    f"[batchops] {pipeline} not started for {where}",
                    f"New data arrived ({where}), but {pipeline} was not started: {refusal}. "
                    "The batch waits in the dead-letter queue: `batchops events redrive` "
                    "scores it once an approved version is deployed.",
                )
            store.complete(claim_key, outcome="refused", reason=refusal[:500])
            raise RunRefusedError(f"{pipeline} not started for {where}: {refusal}")
        arn = _start(
            pipeline,
            [{"Name": "InputBucket", "Value": bucket}, {"Name": "InputKey", "Value": key}],
            claim_key,
        )
    except RunRefusedError:
        raise
    except Exception:
        if not refused_before:
            store.release(claim_key)
        raise
    store.complete(claim_key, outcome="started", execution_arn=arn)
    return {"status": "started", "execution_arn": arn}


def scheduled(event: dict[str, Any]) -> dict[str, Any]:
    """A scheduled run: one per scheduled time, refused while the pinned model is not approved."""
    pipeline = require("BATCHOPS_PIPELINE_NAME")
    moment = str(event.get("time") or "")
    schedule = str(event.get("schedule_arn") or "schedule")
    if not moment or moment.startswith("<"):
        raise HandlerError(
            f"scheduled event for {pipeline} has no scheduled time (the schedule's input must "
            'carry <aws.scheduler.scheduled-time> as "time")'
        )
    parameters = (event.get("detail") or {}).get("parameters") or {}
    if not isinstance(parameters, dict):
        raise HandlerError(f"scheduled event for {pipeline}: detail.parameters is not an object")
    claim_key = f"schedule#{pipeline}#{schedule}#{moment}"
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    claim = store.claim(claim_key, object=schedule)
    if claim.outcome == "done":
        return {
            "status": "duplicate",
            "outcome": claim.item.get("outcome"),
            "execution_arn": claim.item.get("execution_arn"),
        }
    try:
        refusal = _refusal(pipeline)
        if refusal:
            log_json(
                log,
                logging.WARNING,
                "scheduled run refused",
                pipeline=pipeline,
                reason=refusal,
                scheduled_time=moment,
            )
            _notify(
                f"[batchops] scheduled {pipeline} not started",
                f"The run of {pipeline} scheduled for {moment} was not started: {refusal}. "
                "The next scheduled run starts once an approved version is deployed.",
            )
            store.complete(claim_key, outcome="refused", reason=refusal[:500])
            return {"status": "refused", "reason": refusal}
        arn = _start(
            pipeline,
            [{"Name": str(k), "Value": str(v)} for k, v in sorted(parameters.items())],
            claim_key,
            display="schedule",
        )
    except Exception:
        store.release(claim_key)
        raise
    store.complete(claim_key, outcome="started", execution_arn=arn)
    return {"status": "started", "execution_arn": arn}


def _refusal(pipeline: str) -> str | None:
    if env().get("BATCHOPS_REQUIRE_APPROVED_MODEL", "").lower() in ("1", "true", "yes"):
        return approval_refusal(pipeline)
    return None


def _start(
    pipeline: str, parameters: list[dict[str, str]], claim_key: str, display: str = "s3"
) -> str:
    token = hashlib.sha256(claim_key.encode()).hexdigest()
    try:
        started = client("sagemaker").start_pipeline_execution(
            PipelineName=pipeline,
            PipelineParameters=parameters,
            PipelineExecutionDisplayName=f"{display}-{token[:12]}",
            ClientRequestToken=token,
        )
    except Exception as exc:
        code = aws_error_code(exc)
        if code in ("ResourceNotFound", "ValidationException"):
            raise PipelineMissingError(
                f"pipeline {pipeline} does not exist: upsert it, then redrive this event "
                "(`batchops events redrive`)"
            ) from None
        raise
    arn = str(started["PipelineExecutionArn"])
    log_json(
        log,
        logging.INFO,
        "pipeline started",
        pipeline=pipeline,
        parameters={p["Name"]: p["Value"] for p in parameters},
        execution_arn=arn,
    )
    return arn
