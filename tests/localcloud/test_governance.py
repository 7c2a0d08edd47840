"""Registry governance rules hold for any caller of the registry use case."""

from __future__ import annotations

import pytest

from batchops import registry
from batchops.config import load_settings
from batchops.errors import GovernanceError, NotFoundError


def _register(account, source: str) -> int:  # type: ignore[no-untyped-def]
    settings = load_settings("data-science")
    sm = account("data-science").client("sagemaker")
    arn = sm.create_model_package(
        ModelPackageGroupName=settings.model_package_group_name,
        ModelApprovalStatus="PendingManualApproval",
        InferenceSpecification={
            "Containers": [{"Image": "xgboost", "ModelDataUrl": "s3://b/model.tar.gz"}],
            "SupportedContentTypes": ["text/csv"],
            "SupportedResponseMIMETypes": ["text/csv"],
        },
        CustomerMetadataProperties={"source": source},
    )["ModelPackageArn"]
    return int(arn.rsplit("/", 1)[-1])


def test_an_hpo_version_needs_a_review_reference(account) -> None:
    settings, clients = load_settings("data-science"), account("data-science")
    version = _register(account, "hpo")
    with pytest.raises(GovernanceError, match="--review-ref"):
        registry.approve(clients, settings, version)
    with pytest.raises(GovernanceError, match="empty"):
        registry.approve(clients, settings, version, review_ref="  ")
    approved = registry.approve(clients, settings, version, review_ref="MRC-7")
    assert approved.status == "Approved" and approved.review_ref == "MRC-7"


def test_a_fixed_hyperparameter_retrain_is_approved_without_review(account) -> None:
    settings, clients = load_settings("data-science"), account("data-science")
    version = _register(account, "training")
    assert registry.approve(clients, settings, f"v{version}").status == "Approved"
    with pytest.raises(GovernanceError, match="already approved"):
        registry.approve(clients, settings, version)


def test_a_rejected_version_is_never_approved_nor_deployable(account) -> None:
    settings, clients = load_settings("data-science"), account("data-science")
    version = _register(account, "training")
    with pytest.raises(GovernanceError, match="reason"):
        registry.reject(clients, settings, version, reason=" ")
    rejected = registry.reject(clients, settings, version, reason="leaks the test split")
    with pytest.raises(GovernanceError, match="rejected"):
        registry.approve(clients, settings, version)
    with pytest.raises(GovernanceError, match="only approved versions"):
        registry.require_deployable(rejected)


def test_unknown_versions_and_foreign_arns_are_clear_errors(account) -> None:
    settings, clients = load_settings("data-science"), account("data-science")
    with pytest.raises(NotFoundError, match="does not exist"):
        registry.approve(clients, settings, 999)
    with pytest.raises(GovernanceError, match="not a version of the model group"):
        registry.resolve(
            clients, settings, "arn:aws:sagemaker:us-east-1:111111111111:model-package/other/1"
        )


def test_staging_reads_the_registry_cross_account(account) -> None:
    version = _register(account, "training")
    staging = load_settings("staging")
    versions = registry.list_versions(account("staging"), staging)
    assert version in [v.version for v in versions]
