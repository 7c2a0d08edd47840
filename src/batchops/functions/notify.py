"""Pipeline status changes -> one readable SNS notification each (``notification_function_name``).

The article's ``custom_notification_config`` picks the text per step and status; a step or
status it does not name gets a default line, so every change is reported. The config
arrives as JSON in ``BATCHOPS_NOTIFICATION_CONFIG`` (a list of ``{step_name, step_status,
step_custom_message}``) and is validated on every invocation: a typo is a configuration
error that fails loudly, not a silently missing e-mail. (The article's sample read a key
its config did not have; ``test_notify`` pins the key this handler reads.)

A data-quality step that found violations succeeds (violations warn, they never fail a
run), so its notification starts with a WARNING naming the report: a QualityCheck step
says where in its event metadata; for a Processing step (the batchops engine) the handler
looks the report up (:mod:`batchops.functions.quality_report`: ``DescribeProcessingJob``,
then the job's ``constraint_violations.json``).

Environment: BATCHOPS_TOPIC_ARN, BATCHOPS_NOTIFICATION_CONFIG, BATCHOPS_ENVIRONMENT, and
optionally BATCHOPS_IDEMPOTENCY_TABLE (one message per event id, even when EventBridge
delivers twice) and BATCHOPS_KNOWN_STEPS (JSON list: step names the config may use).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from batchops.functions._idempotency import IdempotencyStore
from batchops.functions._runtime import (
    ConfigurationError,
    MalformedEventError,
    client,
    detail_field,
    env,
    log_json,
    logger,
    require,
)
from batchops.functions.quality_report import find_report

CONFIG_VARIABLE = "BATCHOPS_NOTIFICATION_CONFIG"
STEP_EVENT = "SageMaker Model Building Pipeline Execution Step Status Change"
EXECUTION_EVENT = "SageMaker Model Building Pipeline Execution Status Change"
#: Same values as ``batchops.config.STEP_STATUSES`` (a test keeps them equal; the zip
#: cannot import the settings module, which needs pydantic).
STEP_STATUSES = ("Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded")
_RULE_KEYS = {"step_name", "step_status", "step_custom_message"}

log = logger(__name__)


def parse_notification_config(
    raw: str, known_steps: set[str] | None = None
) -> dict[tuple[str, str], str]:
    """``{(step_name, step_status): message}`` or :class:`ConfigurationError` (one line)."""
    try:
        rules = json.loads(raw) if raw.strip() else []
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{CONFIG_VARIABLE}: invalid JSON ({exc.msg})") from None
    if not isinstance(rules, list):
        raise ConfigurationError(f"{CONFIG_VARIABLE}: expected a list, got {type(rules).__name__}")
    table: dict[tuple[str, str], str] = {}
    for index, rule in enumerate(rules):
        where = f"{CONFIG_VARIABLE}[{index}]"
        if not isinstance(rule, dict) or set(rule) != _RULE_KEYS:
            got = sorted(rule) if isinstance(rule, dict) else type(rule).__name__
            raise ConfigurationError(f"{where}: expected keys {sorted(_RULE_KEYS)}, got {got}")
        step, status, message = rule["step_name"], rule["step_status"], rule["step_custom_message"]
        if not all(isinstance(v, str) and v for v in (step, status, message)):
            raise ConfigurationError(f"{where}: every value must be non-empty text")
        if status not in STEP_STATUSES:
            raise ConfigurationError(
                f"{where}: unknown step_status {status!r}; expected one of {list(STEP_STATUSES)}"
            )
        if known_steps is not None and step not in known_steps:
            raise ConfigurationError(
                f"{where}: unknown step_name {step!r}; the pipelines have {sorted(known_steps)}"
            )
        table[(step, status)] = message
    return table


def _known_steps() -> set[str] | None:
    raw = env().get("BATCHOPS_KNOWN_STEPS", "").strip()
    if not raw:
        return None
    try:
        steps = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"BATCHOPS_KNOWN_STEPS: invalid JSON ({exc.msg})") from None
    return {str(s) for s in steps}


def pipeline_name(pipeline_arn: str) -> str:
    return pipeline_arn.rsplit("/", 1)[-1] if "/" in pipeline_arn else pipeline_arn


def violations_report(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """(report URI when violations were found, a note when the report could not be read)
    for a succeeded Processing step; (None, None) for anything else."""
    detail = event.get("detail") or {}
    if (
        event.get("detail-type") != STEP_EVENT
        or detail.get("stepType") != "Processing"
        or detail.get("currentStepStatus") != "Succeeded"
    ):
        return None, None
    try:
        report = find_report(client("sagemaker"), client("s3"), detail.get("metadata") or {})
    except Exception as exc:  # the notification still goes out, saying what is unknown
        log_json(log, logging.WARNING, "data-quality report unreadable", error=str(exc)[:300])
        return None, f"the step's data-quality report could not be read ({str(exc)[:200]})"
    if report is None or not report.violations:
        return None, None
    return report.violations_uri, None


def format_notification(
    event: dict[str, Any],
    rules: dict[tuple[str, str], str],
    environment: str,
    *,
    violations: str | None = None,
    note: str | None = None,
) -> tuple[str, str]:
    """(subject, message) for a step or execution status change; ``violations`` is the
    URI of a violations report found for the step (Processing steps look it up first)."""
    kind = event.get("detail-type")
    pipeline = pipeline_name(str(detail_field(event, "pipelineArn")))
    execution = str(detail_field(event, "pipelineExecutionArn"))
    detail = event["detail"]
    if kind == STEP_EVENT:
        step = str(detail_field(event, "stepName"))
        status = str(detail_field(event, "currentStepStatus"))
        custom = rules.get((step, status))
        headline = custom or f"Step {step} of pipeline {pipeline} is {status}."
        subject = f"[batchops {environment}] {pipeline} {step}: {status}"
    else:
        status = str(detail_field(event, "currentPipelineExecutionStatus"))
        headline = f"Pipeline {pipeline} execution is {status}."
        subject = f"[batchops {environment}] {pipeline}: {status}"
    lines = [headline, "", f"environment: {environment}", f"account: {event.get('account', '?')}"]
    lines += [f"pipeline: {pipeline}", f"execution: {execution}"]
    if kind == STEP_EVENT:
        lines.append(f"step: {detail['stepName']} ({detail.get('stepType', '?')})")
    lines.append(f"status: {status}")
    if detail.get("failureReason"):
        lines.append(f"reason: {detail['failureReason']}")
    report = ((detail.get("metadata") or {}).get("qualityCheck") or {}).get("violationReport")
    report = report or violations
    if note:
        lines.append(f"note: {note}")
    if kind == STEP_EVENT and report:
        lines.insert(
            0,
            "WARNING: the data-quality check found violations (drift or schema "
            f"changes) in this batch. Report: {report}",
        )
        subject = f"[batchops {environment}] WARNING {pipeline} {detail['stepName']}: violations"
    lines.append(f"time: {event.get('time', '?')}")
    return subject[:100], "\n".join(lines)


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    kind = event.get("detail-type")
    if kind not in (STEP_EVENT, EXECUTION_EVENT):
        log_json(log, logging.INFO, "ignored: not a pipeline status change", detail_type=kind)
        return {"status": "ignored", "reason": f"detail-type {kind!r}"}
    topic = require("BATCHOPS_TOPIC_ARN")
    environment = env().get("BATCHOPS_ENVIRONMENT", "") or "unknown"
    rules = parse_notification_config(env().get(CONFIG_VARIABLE, ""), _known_steps())
    try:
        violations, note = violations_report(event)
        subject, message = format_notification(
            event, rules, environment, violations=violations, note=note
        )
    except MalformedEventError as exc:
        log_json(log, logging.ERROR, "malformed event", error=str(exc), event_id=event.get("id"))
        raise
    table = env().get("BATCHOPS_IDEMPOTENCY_TABLE", "").strip()
    store = IdempotencyStore(table) if table else None
    key = f"notify#{event.get('id', '')}"
    if store is not None and event.get("id") and store.claim(key).outcome == "done":
        log_json(log, logging.INFO, "duplicate delivery: already notified", event_id=event["id"])
        return {"status": "duplicate", "subject": subject}
    try:
        message_id = client("sns").publish(TopicArn=topic, Subject=subject, Message=message)[
            "MessageId"
        ]
    except Exception as exc:
        if store is not None and event.get("id"):
            store.release(key)
        log_json(
            log,
            logging.ERROR,
            "SNS publish failed; the event will be redelivered",
            topic=topic,
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    if store is not None and event.get("id"):
        store.complete(key, message_id=message_id)
    log_json(log, logging.INFO, "notification published", subject=subject, message_id=message_id)
    return {"status": "published", "subject": subject, "message_id": message_id}
