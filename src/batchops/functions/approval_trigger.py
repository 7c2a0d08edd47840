"""Approved model version -> the model-deploy GitLab pipeline, exactly once per version.

EventBridge sends *SageMaker Model Package State Change* for every create and update of a
package (it does not say what changed), at least once. This handler acts only on versions
of our group that are ``Approved`` *now* (it reads the package: a late redelivery of an
approval the version has since lost triggers nothing), and enforces the registry's
governance rule wherever the approval came from — the CLI, Studio, boto3: a version from
the HPO pipeline without a model-review reference is set back to ``PendingManualApproval``
with the reason, the data scientists are told (SNS), and nothing is deployed.

Exactly once, whatever GitLab does. The handler claims the version in the idempotency
table, then, before every trigger it sends, asks GitLab whether a pipeline for this version
already exists — a trigger whose answer was lost (a timeout, a 5xx after GitLab created the
pipeline, a handler that died after sending) created one that must not be created twice.
Each trigger carries ``BATCHOPS_TRIGGER_ID`` (a hash of the claim) and the lookup matches it
among the project's recent ``source=trigger`` pipelines and their variables (GitLab's
pipelines API; it needs a read-only API token, ``read_api``, from Secrets Manager). Without
that token an unanswered trigger is not re-sent: the claim is released and the handler
raises, so the event is retried and finally dead-lettered for a person to check — never
sent twice blindly.

GitLab is called through python-gitlab; the tokens come from Secrets Manager at invocation
(never from an environment variable, never logged). 5xx answers and timeouts are retried
with exponential backoff; when GitLab stays down the claim is released and the handler
raises, so Lambda retries the event and finally puts it in the dead-letter queue, where
``batchops events redrive`` picks it up — nothing is lost.

A version rejected *after* its deploy was triggered must stop serving: the handler triggers
the deploy pipeline again with the newest approved version before it (``REPLACES_MODEL_PACKAGE_ARN``
names the rejected one) — staging is redeployed at once, production by a release manager
through the protected gate — and tells the team; meanwhile the inference trigger refuses
batches for a version that is no longer approved (:mod:`.pipeline_trigger`).

Environment: BATCHOPS_GITLAB_URL, BATCHOPS_GITLAB_PROJECT, BATCHOPS_GITLAB_REF,
BATCHOPS_TRIGGER_SECRET_ID, BATCHOPS_IDEMPOTENCY_TABLE, BATCHOPS_MODEL_PACKAGE_GROUP_NAME;
optional BATCHOPS_GITLAB_READ_SECRET_ID (the read token), BATCHOPS_TOPIC_ARN (governance
notices), BATCHOPS_GITLAB_TIMEOUT (s), BATCHOPS_GITLAB_ATTEMPTS, BATCHOPS_RETRY_BASE_DELAY.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime, timedelta
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
)

STATE_CHANGE = "SageMaker Model Package State Change"
DEPLOY_ENV = "staging"
#: The pipeline variables a trigger sends — the only ones the deploy pipeline accepts.
TRIGGER_VARIABLES = (
    "MODEL_PACKAGE_ARN",
    "MODEL_PACKAGE_VERSION",
    "MODEL_PACKAGE_GROUP_NAME",
    "DEPLOY_ENV",
    "BATCHOPS_TRIGGER_ID",
    "REPLACES_MODEL_PACKAGE_ARN",
)
PENDING = "PendingManualApproval"

log = logger(__name__)


class GitLabUnavailableError(HandlerError):
    """GitLab answered 5xx or timed out on every attempt; redeliver later."""


class GitLabRejectedError(PermanentError):
    """GitLab refused the trigger (bad token, unknown project or ref, refused variables)."""


def _secret(secret_id: str, *, what: str) -> str:
    try:
        value = client("secretsmanager").get_secret_value(SecretId=secret_id)
    except Exception as exc:
        code = aws_error_code(exc) or type(exc).__name__
        # a missing secret may be created later: retryable, and loud in the logs
        raise HandlerError(f"cannot read {what} secret {secret_id!r}: {code}") from None
    token = str(value.get("SecretString") or "").strip()
    if not token:
        raise HandlerError(f"{what} secret {secret_id!r} is empty")
    return token


def trigger_token(secret_id: str) -> str:
    return _secret(secret_id, what="trigger token")


def read_token() -> str | None:
    """The read-only API token, or None when the function has none configured."""
    secret_id = env().get("BATCHOPS_GITLAB_READ_SECRET_ID", "").strip()
    return _secret(secret_id, what="GitLab read token") if secret_id else None


def _transient(exc: BaseException) -> bool:
    import requests
    from gitlab.exceptions import GitlabError

    if isinstance(exc, requests.exceptions.RequestException):
        return True
    if isinstance(exc, GitlabError):
        code = exc.response_code
        return code is None or code >= 500 or code == 429
    return False


def _not_sent(exc: BaseException) -> bool:
    """The request never reached GitLab (connection refused, connect timeout, 429)."""
    import requests
    from gitlab.exceptions import GitlabError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError) and not isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return "NewConnectionError" in repr(exc) or "Connection refused" in str(exc)
    return isinstance(exc, GitlabError) and exc.response_code == 429


def _describe(exc: BaseException) -> str:
    code = getattr(exc, "response_code", None)
    text = str(getattr(exc, "error_message", "") or exc).splitlines()[0][:200]
    return f"{type(exc).__name__}" + (f" {code}" if code else "") + f": {text}"


class GitLab:
    """The two calls the handler makes: trigger, and find the pipeline of a trigger id."""

    def __init__(self, token: str, api_token: str | None) -> None:
        import gitlab

        self.url = require("BATCHOPS_GITLAB_URL")
        self.project = require("BATCHOPS_GITLAB_PROJECT")
        self.ref = env().get("BATCHOPS_GITLAB_REF", "") or "main"
        self.timeout = float(int_setting("BATCHOPS_GITLAB_TIMEOUT", 10))
        self.token = token
        self.can_look_up = api_token is not None
        self._trigger = gitlab.Gitlab(
            self.url, timeout=self.timeout, retry_transient_errors=False, keep_base_url=True
        )
        self._reader = gitlab.Gitlab(
            self.url,
            private_token=api_token,
            timeout=self.timeout,
            retry_transient_errors=False,
            keep_base_url=True,
        )

    def trigger(self, variables: dict[str, str]) -> dict[str, Any]:
        project = self._trigger.projects.get(self.project, lazy=True)
        return dict(project.trigger_pipeline(self.ref, self.token, variables).attributes)

    def find(self, trigger_id: str, since: datetime) -> dict[str, Any] | None:
        """The pipeline a trigger with ``BATCHOPS_TRIGGER_ID == trigger_id`` created."""
        project = self._reader.projects.get(self.project, lazy=True)
        listed = project.pipelines.list(
            source="trigger",
            ref=self.ref,
            updated_after=since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            order_by="id",
            sort="desc",
            per_page=100,
            get_all=True,
        )
        for pipeline in listed:
            variables = {v.key: v.value for v in pipeline.variables.list(get_all=True)}
            if variables.get("BATCHOPS_TRIGGER_ID") == trigger_id:
                return dict(pipeline.attributes)
        return None


def exactly_once_trigger(
    gitlab_api: GitLab, variables: dict[str, str], *, since: datetime
) -> dict[str, Any]:
    """Trigger unless a pipeline for ``variables['BATCHOPS_TRIGGER_ID']`` exists; retry safely.

    Before each send, when a read token is configured, look the trigger id up: a send whose
    outcome is unknown is resolved by GitLab's own record, never by sending again blindly.
    """
    from gitlab.exceptions import GitlabError

    attempts = int_setting("BATCHOPS_GITLAB_ATTEMPTS", 4)
    base_delay = float(env().get("BATCHOPS_RETRY_BASE_DELAY", "") or 0.5)
    trigger_id = variables["BATCHOPS_TRIGGER_ID"]
    ambiguous = False
    for attempt in range(1, attempts + 1):
        if gitlab_api.can_look_up:
            try:
                found = gitlab_api.find(trigger_id, since)
            except Exception as exc:
                if not _transient(exc) and isinstance(exc, GitlabError):
                    raise GitLabRejectedError(
                        f"GitLab {gitlab_api.url} refused the pipeline lookup: {_describe(exc)}"
                    ) from None
                raise GitLabUnavailableError(
                    f"GitLab {gitlab_api.url}: cannot check for an earlier pipeline: "
                    f"{_describe(exc)}"
                ) from None
            if found is not None:
                log_json(
                    log,
                    logging.INFO,
                    "an earlier trigger created the pipeline; not triggering again",
                    pipeline_id=found.get("id"),
                    attempt=attempt,
                )
                return {**found, "found_existing": True}
        elif ambiguous:
            raise GitLabUnavailableError(
                f"GitLab {gitlab_api.url}: the trigger's outcome is unknown and no read token "
                "(BATCHOPS_GITLAB_READ_SECRET_ID) lets the handler check; not sending it again"
            )
        try:
            return gitlab_api.trigger(variables)
        except Exception as exc:
            if not _transient(exc):
                if isinstance(exc, GitlabError):
                    raise GitLabRejectedError(
                        f"GitLab {gitlab_api.url} refused the trigger: {_describe(exc)}"
                    ) from None
                raise
            ambiguous = ambiguous or not _not_sent(exc)
            if attempt == attempts:
                raise GitLabUnavailableError(f"GitLab {gitlab_api.url}: {_describe(exc)}") from None
            delay = base_delay * 2 ** (attempt - 1)
            log_json(
                log,
                logging.WARNING,
                "GitLab trigger failed; retrying",
                attempt=attempt,
                delay_s=delay,
                outcome_unknown=ambiguous,
                error=_describe(exc),
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def trigger_deploy(
    token: str, variables: dict[str, str], *, since: datetime | None = None
) -> dict[str, Any]:
    """POST the trigger exactly once; returns GitLab's pipeline (id, web_url, status).

    ``since``: no pipeline of this trigger id can be older (the approval's time).
    """
    since = since or datetime.now(UTC) - timedelta(days=1)
    return exactly_once_trigger(GitLab(token, read_token()), variables, since=since)


def event_time(event: dict[str, Any]) -> datetime:
    """When the event happened (its ``time``), minus a margin for clocks; now if absent."""
    try:
        moment = datetime.fromisoformat(str(event.get("time", "")).replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment - timedelta(minutes=10)


def trigger_id_of(claim_key: str) -> str:
    return "approval-" + hashlib.sha256(claim_key.encode()).hexdigest()[:24]


# ----- governance --------------------------------------------------------------------------
def review_refusal(package: dict[str, Any]) -> str | None:
    """Why an approved package must not be deployed (None: it may)."""
    meta = package.get("CustomerMetadataProperties") or {}
    if meta.get("source") == "hpo" and not str(meta.get("review_ref") or "").strip():
        return (
            "a version from the HPO pipeline needs a model-review-committee reference "
            "(customer metadata review_ref; `batchops models approve V --review-ref REF`)"
        )
    return None


def refuse_approval(package: dict[str, Any], reason: str) -> None:
    """Set the version back to pending with the reason, and tell the data scientists."""
    arn = package["ModelPackageArn"]
    client("sagemaker").update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus=PENDING,
        ApprovalDescription=f"approval refused by batchops-approval-trigger: {reason}"[:1024],
        CustomerMetadataProperties={
            "approval_refused_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "approval_refused_reason": reason[:256],
        },
    )
    topic = env().get("BATCHOPS_TOPIC_ARN", "").strip()
    if topic:
        version = package.get("ModelPackageVersion", arn.rsplit("/", 1)[-1])
        client("sns").publish(
            TopicArn=topic,
            Subject=f"batchops: approval of v{version} refused"[:100],
            Message=(
                f"The approval of model version {version} ({arn}) was refused and the version "
                f"set back to {PENDING}: {reason}. Nothing was deployed."
            ),
        )


def current_package(arn: str) -> dict[str, Any]:
    try:
        return dict(client("sagemaker").describe_model_package(ModelPackageName=arn))
    except Exception as exc:
        code = aws_error_code(exc) or type(exc).__name__
        raise HandlerError(f"cannot read model package {arn}: {code}") from None


# ----- the handler -------------------------------------------------------------------------
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
    if status not in ("Approved", "Rejected"):
        log_json(log, logging.INFO, "ignored: not approved", model_package_arn=arn, status=status)
        return {"status": "ignored", "reason": f"status {status}"}
    package = current_package(arn)
    if status == "Rejected":
        if package.get("ModelApprovalStatus") != "Rejected":
            return {"status": "ignored", "reason": "the version is no longer rejected"}
        return _replace_rejected(event, package, group)
    if package.get("ModelApprovalStatus") != "Approved":
        now_status = package.get("ModelApprovalStatus")
        log_json(
            log,
            logging.INFO,
            "ignored: no longer approved",
            model_package_arn=arn,
            status=now_status,
        )
        return {"status": "ignored", "reason": f"the version is {now_status} now"}
    refusal = review_refusal(package)
    if refusal:
        refuse_approval(package, refusal)
        log_json(log, logging.WARNING, "approval refused", model_package_arn=arn, reason=refusal)
        return {"status": "refused", "model_package_arn": arn, "reason": refusal}
    return _trigger_once(event, arn, group)


def _approval_key(arn: str, event: dict[str, Any]) -> str:
    # a deleted and re-created group numbers its versions from 1 again: the creation time
    # tells two versions with the same ARN apart
    return f"approval#{arn}#{event['detail'].get('CreationTime', '')}"


def previous_approved(group: str, rejected: str) -> dict[str, Any] | None:
    """The newest approved version of ``group`` other than ``rejected`` (None: there is none)."""
    sm = client("sagemaker")
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "ModelPackageGroupName": group,
        "ModelApprovalStatus": "Approved",
        "SortBy": "CreationTime",
        "SortOrder": "Descending",
        "MaxResults": 100,
    }
    while True:
        page = sm.list_model_packages(**kwargs)
        summaries.extend(page.get("ModelPackageSummaryList", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    candidates = [s for s in summaries if s["ModelPackageArn"] != rejected]
    candidates.sort(key=lambda s: int(s.get("ModelPackageVersion") or 0), reverse=True)
    return candidates[0] if candidates else None


def _replace_rejected(event: dict[str, Any], package: dict[str, Any], group: str) -> dict[str, Any]:
    """A rejected version whose deploy we triggered: deploy the previous approved one."""
    arn = package["ModelPackageArn"]
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    deployed = store.get(_approval_key(arn, event))
    if deployed.get("status") != "done":
        log_json(
            log,
            logging.INFO,
            "ignored: a rejected version that was never deployed",
            model_package_arn=arn,
        )
        return {"status": "ignored", "reason": "never deployed"}
    version = package.get("ModelPackageVersion", arn.rsplit("/", 1)[-1])
    previous = previous_approved(group, arn)
    topic = env().get("BATCHOPS_TOPIC_ARN", "").strip()
    if previous is None:
        if topic:
            client("sns").publish(
                TopicArn=topic,
                Subject=f"batchops: v{version} rejected, nothing to fall back on"[:100],
                Message=(
                    f"Model version {version} ({arn}) was rejected after its deployment and no "
                    "other version is approved: the inference pipelines refuse new batches "
                    "until one is approved and deployed."
                ),
            )
        return {"status": "no-fallback", "model_package_arn": arn}
    replacement = str(previous["ModelPackageArn"])
    result = _trigger_once(
        event,
        replacement,
        group,
        key=f"rejection#{arn}#{event['detail'].get('CreationTime', '')}",
        replaces=arn,
    )
    if topic and result["status"] == "triggered":
        client("sns").publish(
            TopicArn=topic,
            Subject=f"batchops: v{version} rejected, v{previous.get('ModelPackageVersion')} "
            "goes back"[:100],
            Message=(
                f"Model version {version} ({arn}) was rejected after its deployment. The "
                f"deploy pipeline {result.get('pipeline_id')} puts back version "
                f"{previous.get('ModelPackageVersion')} ({replacement}): staging now, production "
                "when a release manager runs its gate. Until then the inference pipelines "
                "refuse new batches for the rejected version."
            ),
        )
    return {**result, "replaces": arn}


def _trigger_once(
    event: dict[str, Any],
    arn: str,
    group: str,
    *,
    key: str | None = None,
    replaces: str | None = None,
) -> dict[str, Any]:
    version = (
        arn.rsplit("/", 1)[-1]
        if replaces
        else str(event["detail"].get("ModelPackageVersion") or arn.rsplit("/", 1)[-1])
    )
    store = IdempotencyStore(require("BATCHOPS_IDEMPOTENCY_TABLE"))
    token = trigger_token(require("BATCHOPS_TRIGGER_SECRET_ID"))
    key = key or _approval_key(arn, event)
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
        "BATCHOPS_TRIGGER_ID": trigger_id_of(key),
    }
    if replaces:
        variables["REPLACES_MODEL_PACKAGE_ARN"] = replaces
    try:
        pipeline = trigger_deploy(token, variables, since=event_time(event))
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
        found_existing=bool(pipeline.get("found_existing")),
    )
    return {"status": "triggered", "model_package_arn": arn, "pipeline_id": pipeline_id}
