"""Approved model version -> the model-deploy GitLab pipeline, exactly once per version.

EventBridge sends *SageMaker Model Package State Change* for every create and update of a
package (it does not say what changed), at least once. This handler acts only on versions
of our group whose status is ``Approved``, claims the model package ARN (with its creation
time) in the idempotency table before calling GitLab, and marks it done afterwards;
redeliveries and later updates of an approved version (a description edit) trigger nothing.

GitLab is called through python-gitlab's pipeline trigger API with the trigger token read
from Secrets Manager at invocation (never from an environment variable, never logged).
5xx answers and timeouts are retried with exponential backoff; when GitLab stays down the
claim is released and the handler raises, so EventBridge/Lambda redeliver the event and
finally park it in the dead-letter queue, where nothing is lost.

Environment: BATCHOPS_GITLAB_URL, BATCHOPS_GITLAB_PROJECT, BATCHOPS_GITLAB_REF,
BATCHOPS_TRIGGER_SECRET_ID, BATCHOPS_IDEMPOTENCY_TABLE, BATCHOPS_MODEL_PACKAGE_GROUP_NAME;
optional BATCHOPS_GITLAB_TIMEOUT (s), BATCHOPS_GITLAB_ATTEMPTS, BATCHOPS_RETRY_BASE_DELAY.
"""

from __future__ import annotations

import logging
from typing import Any

from batchops.functions._idempotency import IdempotencyStore
from batchops.functions._runtime import (
    HandlerError,
    MalformedEventError,
    PermanentError,
    aws_error_code,
    client,
    detail_field,
    env,
    int_setting,
    log_json,
    logger,
    require,
    retry,
)

STATE_CHANGE = "SageMaker Model Package State Change"
DEPLOY_ENV = "staging"

log = logger(__name__)


class GitLabUnavailableError(HandlerError):
    """GitLab answered 5xx or timed out on every attempt; redeliver later."""


class GitLabRejectedError(PermanentError):
    """GitLab refused the trigger (bad token, unknown project or ref)."""


def trigger_token(secret_id: str) -> str:
    try:
        value = client("secretsmanager").get_secret_value(SecretId=secret_id)
    except Exception as exc:
        code = aws_error_code(exc) or type(exc).__name__
        # a missing secret may be created later: retryable, and loud in the logs
        raise HandlerError(f"cannot read trigger token secret {secret_id!r}: {code}") from None
    token = str(value.get("SecretString") or "").strip()
    if not token:
        raise HandlerError(f"trigger token secret {secret_id!r} is empty")
    return token


def _transient(exc: BaseException) -> bool:
    import requests
    from gitlab.exceptions import GitlabError

    if isinstance(exc, requests.exceptions.RequestException):
        return True
    if isinstance(exc, GitlabError):
        code = exc.response_code
        return code is None or code >= 500 or code == 429
    return False


def trigger_deploy(token: str, variables: dict[str, str]) -> dict[str, Any]:
    """POST the trigger; returns GitLab's pipeline (id, web_url, status)."""
    import gitlab
    from gitlab.exceptions import GitlabError

    url = require("BATCHOPS_GITLAB_URL")
    project = require("BATCHOPS_GITLAB_PROJECT")
    ref = env().get("BATCHOPS_GITLAB_REF", "") or "main"
    timeout = float(int_setting("BATCHOPS_GITLAB_TIMEOUT", 10))
    base_delay = float(env().get("BATCHOPS_RETRY_BASE_DELAY", "") or 0.5)
    gl = gitlab.Gitlab(url, timeout=timeout, retry_transient_errors=False, keep_base_url=True)

    def call() -> dict[str, Any]:
        pipeline = gl.projects.get(project, lazy=True).trigger_pipeline(ref, token, variables)
        return dict(pipeline.attributes)

    def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
        log_json(
            log,
            logging.WARNING,
            "GitLab trigger failed; retrying",
            attempt=attempt,
            delay_s=delay,
            error=_describe(exc),
        )

    try:
        return retry(
            call,
            transient=_transient,
            attempts=int_setting("BATCHOPS_GITLAB_ATTEMPTS", 4),
            base_delay=base_delay,
            on_retry=on_retry,
        )
    except GitlabError as exc:
        if _transient(exc):
            raise GitLabUnavailableError(f"GitLab {url}: {_describe(exc)}") from None
        raise GitLabRejectedError(f"GitLab {url} refused the trigger: {_describe(exc)}") from None
    except Exception as exc:
        if _transient(exc):
            raise GitLabUnavailableError(f"GitLab {url}: {_describe(exc)}") from None
        raise


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "response_code", None)
    text = str(getattr(exc, "error_message", "") or exc).splitlines()[0][:200]
    return f"{type(exc).__name__}" + (f" {code}" if code else "") + f": {text}"


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    if event.get("detail-type") != STATE_CHANGE:
        log_json(
            log,
            logging.INFO,
            "ignored: not a model package state change",
            detail_type=event.get("detail-type"),
        )
        return {"status": "ignored", "reason": "not a model package state change"}
    group = require("BATCHOPS_MODEL_PACKAGE_GROUP_NAME")
    try:
        event_group = detail_field(event, "ModelPackageGroupName")
        status = detail_field(event, "ModelApprovalStatus")
        arn = str(detail_field(event, "ModelPackageArn"))
    except MalformedEventError as exc:
        log_json(log, logging.ERROR, "malformed event", error=str(exc), event_id=event.get("id"))
        raise
    if event_group != group:
        log_json(log, logging.INFO, "ignored: another model package group", group=event_group)
        return {"status": "ignored", "reason": f"group {event_group!r} is not {group!r}"}
    if status != "Approved":
        log_json(log, logging.INFO, "ignored: not approved", model_package_arn=arn, status=status)
        return {"status": "ignored", "reason": f"status {status}"}
    version = str(event["detail"].get("ModelPackageVersion") or arn.rsplit("/", 1)[-1])
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    token = trigger_token(require("BATCHOPS_TRIGGER_SECRET_ID"))
    # a deleted and re-created group numbers its versions from 1 again: the creation time
    # tells two versions with the same ARN apart
    key = f"approval#{arn}#{event['detail'].get('CreationTime', '')}"
    claim = store.claim(key, model_package_arn=arn)
    if claim.outcome == "done":
        log_json(
            log,
            logging.INFO,
            "duplicate: deploy already triggered for this version",
            model_package_arn=arn,
            pipeline_id=claim.item.get("pipeline_id"),
        )
        return {"status": "duplicate", "model_package_arn": arn}
    variables = {
        "MODEL_PACKAGE_ARN": arn,
        "MODEL_PACKAGE_VERSION": version,
        "MODEL_PACKAGE_GROUP_NAME": group,
        "DEPLOY_ENV": DEPLOY_ENV,
    }
    try:
        pipeline = trigger_deploy(token, variables)
    except Exception as exc:
        store.release(key)
        log_json(
            log,
            logging.ERROR,
            "deploy trigger failed; claim released for redelivery",
            model_package_arn=arn,
            error=str(exc),
        )
        raise
    pipeline_id = str(pipeline.get("id", ""))
    store.complete(key, pipeline_id=pipeline_id, web_url=str(pipeline.get("web_url", "")))
    log_json(
        log,
        logging.INFO,
        "deploy pipeline triggered",
        model_package_arn=arn,
        version=version,
        pipeline_id=pipeline_id,
        web_url=pipeline.get("web_url"),
    )
    return {"status": "triggered", "model_package_arn": arn, "pipeline_id": pipeline_id}
