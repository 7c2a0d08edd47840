"""The central model registry and its governance rules, enforced in code.

Rules (they apply to every caller — the CLI, the demo, the deploy use case):

* a version produced by the HPO pipeline (``source=hpo``) is approved only with a
  model-review-committee reference (``review_ref``), stored on the version;
* a fixed-hyperparameter retrain (``source=training``) may be approved by the data
  scientist without one;
* an approved version is not re-approved silently, an empty review reference is refused,
  a rejection needs a reason, and a rejected version is never approved or deployed.

Approval and rejection go through ``UpdateModelPackage`` so SageMaker emits the *Model
Package State Change* event the approval trigger listens to. The registry lives in the
data-science account; staging and production read it cross-account (the group's resource
policy), which is why every call takes the group by ARN when the caller is elsewhere.
"""

from __future__ import annotations

import getpass
import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from batchops.aws import Clients, error_message
from batchops.config import Settings
from batchops.errors import CloudError, GovernanceError, NotFoundError

APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"


@dataclass(frozen=True)
class ModelVersion:
    version: int
    arn: str
    status: str
    source: str
    created: str
    rmse: float | None
    review_ref: str | None
    approved_by: str | None
    note: str | None
    git_commit: str | None
    execution_arn: str | None
    model_data_url: str | None
    #: the dataset spec's metric on the test split (e.g. ``mse`` 4.37, ``f1`` 0.93)
    metric: str | None = None
    value: float | None = None
    dataset: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def group_ref(settings: Settings) -> str:
    """The group's name in its own account, its ARN from any other."""
    if settings.account_id == settings.registry_account_id:
        return settings.model_package_group_name
    return (
        f"arn:aws:sagemaker:{settings.region}:{settings.registry_account_id}:"
        f"model-package-group/{settings.model_package_group_name}"
    )


def _actor() -> str:
    return os.environ.get("GITLAB_USER_LOGIN") or os.environ.get("USER") or getpass.getuser()


def _evaluation(clients: Clients, package: dict[str, Any]) -> dict[str, Any] | None:
    """The version's registered model-quality statistics (``evaluation.json``)."""
    from botocore.exceptions import ClientError

    uri = package.get("ModelMetrics", {}).get("ModelQuality", {}).get("Statistics", {}).get("S3Uri")
    if not uri or not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[5:].partition("/")
    try:
        body = clients.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        document = json.loads(body)
    except (ClientError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _metric(document: dict[str, Any] | None, problem: str, metric: str) -> float | None:
    from batchops.monitor.classification import metric_location

    if document is None:
        return None
    try:
        block, key = metric_location(problem, metric)
        value = document[block][key]["value"]
        return None if value == "NaN" else float(value)
    except (KeyError, ValueError, TypeError):
        return None


def _version(clients: Clients, package: dict[str, Any]) -> ModelVersion:
    meta = package.get("CustomerMetadataProperties") or {}
    created = package.get("CreationTime")
    evaluation = _evaluation(clients, package)
    # versions registered before dataset specs existed are Abalone regressions on rmse
    problem = meta.get("problem_type", "regression")
    metric = meta.get("quality_metric") or ("rmse" if problem == "regression" else None)
    containers = package.get("InferenceSpecification", {}).get("Containers") or [{}]
    return ModelVersion(
        version=int(package.get("ModelPackageVersion", 0)),
        arn=package["ModelPackageArn"],
        status=package.get("ModelApprovalStatus", "?"),
        source=meta.get("source", "unknown"),
        created=created.isoformat() if isinstance(created, datetime) else str(created or ""),
        rmse=_metric(evaluation, "regression", "rmse"),
        review_ref=meta.get("review_ref"),
        approved_by=meta.get("approved_by"),
        note=package.get("ApprovalDescription"),
        git_commit=meta.get("git_commit"),
        execution_arn=meta.get("pipeline_execution_arn"),
        model_data_url=containers[0].get("ModelDataUrl"),
        metric=metric,
        value=_metric(evaluation, problem, metric) if metric else None,
        dataset=meta.get("dataset"),
    )


def describe_package(clients: Clients, arn: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        return dict(clients.client("sagemaker").describe_model_package(ModelPackageName=arn))
    except ClientError as exc:
        code = exc.response["Error"]["Code"]
        if code in ("ValidationException", "ResourceNotFound"):
            raise NotFoundError(f"model version {arn} not found") from None
        raise CloudError(f"DescribeModelPackage {arn}: {error_message(exc)}") from None


def list_versions(clients: Clients, settings: Settings) -> list[ModelVersion]:
    from botocore.exceptions import ClientError

    sm = clients.client("sagemaker")
    summaries: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"ModelPackageGroupName": group_ref(settings), "MaxResults": 100}
    try:
        while True:
            page = sm.list_model_packages(**kwargs)
            summaries.extend(page.get("ModelPackageSummaryList", []))
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    except ClientError as exc:
        raise CloudError(
            f"cannot list model group {settings.model_package_group_name}: {error_message(exc)}"
        ) from None
    versions = [
        _version(clients, describe_package(clients, s["ModelPackageArn"])) for s in summaries
    ]
    return sorted(versions, key=lambda v: v.version)


def resolve(clients: Clients, settings: Settings, ref: str | int) -> ModelVersion:
    """A version by number (``3``, ``v3``) or model package ARN (of our group only)."""
    text = str(ref).strip()
    if text.startswith("arn:"):
        group = settings.model_package_group_name
        if f":model-package/{group}/" not in text:
            raise GovernanceError(f"{text} is not a version of the model group {group}")
        return _version(clients, describe_package(clients, text))
    number = text[1:] if text.lower().startswith("v") else text
    if not number.isdigit():
        raise NotFoundError(f"model version {text!r}: expected a number (e.g. 3) or an ARN")
    for version in list_versions(clients, settings):
        if version.version == int(number):
            return version
    raise NotFoundError(
        f"model version {number} does not exist in {settings.model_package_group_name}"
    )


def latest_approved(clients: Clients, settings: Settings) -> ModelVersion | None:
    approved = [v for v in list_versions(clients, settings) if v.status == APPROVED]
    return approved[-1] if approved else None


def _update(
    clients: Clients, version: ModelVersion, status: str, description: str, metadata: dict[str, str]
) -> None:
    from botocore.exceptions import ClientError

    try:
        clients.client("sagemaker").update_model_package(
            ModelPackageArn=version.arn,
            ModelApprovalStatus=status,
            ApprovalDescription=description[:1024],
            CustomerMetadataProperties=metadata,
        )
    except ClientError as exc:
        raise CloudError(f"UpdateModelPackage v{version.version}: {error_message(exc)}") from None


def approve(
    clients: Clients,
    settings: Settings,
    ref: str | int,
    *,
    review_ref: str | None = None,
    note: str | None = None,
) -> ModelVersion:
    version = resolve(clients, settings, ref)
    if review_ref is not None and not review_ref.strip():
        raise GovernanceError("--review-ref is empty: give the model-review committee reference")
    if version.status == APPROVED:
        raise GovernanceError(
            f"v{version.version} is already approved (by "
            f"{version.approved_by or 'unknown'}); nothing to do"
        )
    if version.status == REJECTED:
        raise GovernanceError(
            f"v{version.version} was rejected ({version.note or 'no reason'}); "
            "a rejected version cannot be approved — train a new one"
        )
    if version.source == "hpo" and not review_ref:
        raise GovernanceError(
            f"v{version.version} comes from the HPO pipeline: approving it needs a "
            "model-review-committee reference (--review-ref REF)"
        )
    metadata = {"approved_by": _actor(), "approved_at": datetime.now(UTC).isoformat()}
    if review_ref:
        metadata["review_ref"] = review_ref.strip()
    _update(clients, version, APPROVED, note or f"approved by {metadata['approved_by']}", metadata)
    return resolve(clients, settings, version.arn)


def reject(clients: Clients, settings: Settings, ref: str | int, *, reason: str) -> ModelVersion:
    if not reason or not reason.strip():
        raise GovernanceError("a rejection needs a reason (--reason TEXT)")
    version = resolve(clients, settings, ref)
    if version.status == REJECTED:
        raise GovernanceError(f"v{version.version} is already rejected")
    metadata = {"rejected_by": _actor(), "rejected_at": datetime.now(UTC).isoformat()}
    _update(clients, version, REJECTED, reason.strip(), metadata)
    return resolve(clients, settings, version.arn)


def require_deployable(version: ModelVersion) -> None:
    if version.status != APPROVED:
        raise GovernanceError(
            f"v{version.version} is {version.status}: only approved versions are deployed"
        )
