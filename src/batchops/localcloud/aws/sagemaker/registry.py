"""The SageMaker model registry as the central-registry design needs it.

What moto lacks or gets wrong, repaired in its request handlers:

* ``CreateModelPackage``/``UpdateModelPackage`` emit *SageMaker Model Package State
  Change*; ``UpdateModelPackage`` keeps the fields a request does not name (moto drops them);
* model package group resource policies (Put/Get/Delete; moto answers HTTP 500), deletes of
  groups and packages;
* cross-account reads of the registry that the group's resource policy allows — what the
  staging and production accounts need to read the central registry.

Group policies are kept beside moto's state, on the account's SageMaker backend.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from batchops.localcloud.aws.context import current_cloud
from batchops.localcloud.aws.events.envelope import model_package_state_change
from batchops.localcloud.aws.iam.policies import resource_policy_allows
from batchops.localcloud.aws.iam.principals import checked_caller

_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):")


def group_policies(backend: Any) -> dict[str, str]:
    """The resource policies of ``backend``'s model package groups, by group name."""
    policies: dict[str, str] = backend.__dict__.setdefault("batchops_group_policies", {})
    return policies


def install() -> None:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
    from moto.sagemaker.models import sagemaker_backends
    from moto.sagemaker.responses import SageMakerResponse

    def sagemaker_backend(self: Any) -> Any:
        override = getattr(self, "_batchops_backend", None)
        return (
            override
            if override is not None
            else sagemaker_backends[self.current_account][self.region]
        )

    SageMakerResponse.sagemaker_backend = property(sagemaker_backend)  # type: ignore[method-assign,assignment]

    original_create = SageMakerResponse.create_model_package
    original_describe = SageMakerResponse.describe_model_package
    original_list = SageMakerResponse.list_model_packages
    original_describe_group = SageMakerResponse.describe_model_package_group

    def _owner(self: Any, name_or_arn: str | None) -> str:
        match = _ARN_ACCOUNT.match(name_or_arn or "")
        return match.group(2) if match else self.current_account

    def _cross_account(self: Any, name_or_arn: str | None, action: str) -> Any | None:
        """The owning account's backend when another account reads, if its policy allows."""
        owner = _owner(self, name_or_arn)
        if owner == self.current_account:
            return None
        match = _ARN_ACCOUNT.match(name_or_arn or "")
        region = match.group(1) if match else self.region
        group = _group_of(name_or_arn or "")
        policy = group_policies(sagemaker_backends[owner][region]).get(group)
        session = checked_caller(self)
        principal = session[0] if session is not None else None
        who = principal.arn if principal else f"arn:aws:iam::{self.current_account}:root"
        if not resource_policy_allows(
            policy, self.current_account, f"sagemaker:{action}", caller=principal
        ):
            from moto.sagemaker.exceptions import SagemakerClientError

            raise SagemakerClientError(
                "AccessDeniedException",
                f"User: {who} is not authorized to perform: sagemaker:{action} on resource: "
                f"{name_or_arn} because no "
                f"resource-based policy allows the sagemaker:{action} action",
            )
        return sagemaker_backends[owner][region]

    def _as(self: Any, backend: Any, method: Callable[[Any], Any]) -> Any:
        """Run moto's handler against another account's backend (this request only)."""
        self._batchops_backend = backend
        return method(self)

    def describe_model_package(self: Any) -> Any:
        name = self._get_param("ModelPackageName")
        backend = _cross_account(self, name, "DescribeModelPackage")
        return original_describe(self) if backend is None else _as(self, backend, original_describe)

    def list_model_packages(self: Any) -> Any:
        group = self._get_param("ModelPackageGroupName")
        backend = _cross_account(self, group, "ListModelPackages")
        return original_list(self) if backend is None else _as(self, backend, original_list)

    def describe_model_package_group(self: Any) -> Any:
        group = self._get_param("ModelPackageGroupName")
        backend = _cross_account(self, group, "DescribeModelPackageGroup")
        return (
            original_describe_group(self)
            if backend is None
            else _as(self, backend, original_describe_group)
        )

    def create_model_package(self: Any) -> Any:
        result = original_create(self)
        payload: Any = getattr(result, "result", None)
        arn = payload["ModelPackageArn"] if payload else None
        if arn:
            package = self.sagemaker_backend.describe_model_package(arn)
            current_cloud().bus.emit(
                model_package_state_change(package, self.current_account, self.region)
            )
        return result

    def update_model_package(self: Any) -> Any:
        arn = self._get_param("ModelPackageArn")
        # another account (staging's promotion evidence) only where the group policy allows
        owner_backend = _cross_account(self, arn, "UpdateModelPackage")
        backend = self.sagemaker_backend if owner_backend is None else owner_backend
        owner = self.current_account if owner_backend is None else _owner(self, arn)
        package = backend.model_packages.get(backend.model_package_name_mapping.get(arn, arn))
        if package is None:
            raise ValidationError(f"Model package {arn} not found")
        status = self._get_param("ModelApprovalStatus")
        if status is not None:
            package.set_model_approval_status(status)
        if self._get_param("ApprovalDescription") is not None:
            package.approval_description = self._get_param("ApprovalDescription")
        additions = self._get_param("CustomerMetadataProperties")
        if additions:
            package.customer_metadata_properties = {
                **(package.customer_metadata_properties or {}),
                **additions,
            }
        removals = self._get_param("CustomerMetadataPropertiesToRemove") or []
        if removals and package.customer_metadata_properties:
            package.remove_customer_metadata_property(removals)
        package.add_additional_inference_specifications(
            self._get_param("AdditionalInferenceSpecificationsToAdd")
        )
        package.modifications_done()
        current_cloud().bus.emit(model_package_state_change(package, owner, self.region))
        return ActionResult({"ModelPackageArn": package.arn})

    def put_model_package_group_policy(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        if group not in self.sagemaker_backend.model_package_groups:
            raise ResourceNotFound(f"Model package group {group} does not exist")
        policy = self._get_param("ResourcePolicy")
        try:
            json.loads(policy)
        except (TypeError, json.JSONDecodeError):
            raise ValidationError("ResourcePolicy is not valid JSON") from None
        group_policies(self.sagemaker_backend)[group] = policy
        return ActionResult(
            {"ModelPackageGroupArn": self.sagemaker_backend.model_package_groups[group].arn}
        )

    def get_model_package_group_policy(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        policy = group_policies(self.sagemaker_backend).get(group)
        if policy is None:
            raise ResourceNotFound(f"Cannot find resource policy for model package group {group}")
        return ActionResult({"ResourcePolicy": policy})

    def delete_model_package_group_policy(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        group_policies(self.sagemaker_backend).pop(group, None)
        return ActionResult({})

    def delete_model_package_group(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        backend = self.sagemaker_backend
        if group not in backend.model_package_groups:
            raise ResourceNotFound(f"Model package group {group} does not exist")
        if any(p.model_package_group_name == group for p in backend.model_packages.values()):
            from moto.sagemaker.exceptions import SagemakerClientError

            raise SagemakerClientError(
                "ConflictException", f"Model package group {group} still has model packages"
            )
        del backend.model_package_groups[group]
        group_policies(self.sagemaker_backend).pop(group, None)
        return ActionResult({})

    def delete_model_package(self: Any) -> Any:
        name = self._get_param("ModelPackageName")
        backend = self.sagemaker_backend
        key = backend.model_package_name_mapping.get(name, name)
        if key not in backend.model_packages:
            raise ValidationError(f"Model package {name} not found")
        package = backend.model_packages.pop(key)
        for alias in [k for k, v in backend.model_package_name_mapping.items() if v == key]:
            backend.model_package_name_mapping.pop(alias, None)
        backend.model_package_name_mapping.pop(package.arn, None)
        return ActionResult({})

    for function in (
        describe_model_package,
        list_model_packages,
        describe_model_package_group,
        create_model_package,
        update_model_package,
        put_model_package_group_policy,
        get_model_package_group_policy,
        delete_model_package_group_policy,
        delete_model_package_group,
        delete_model_package,
    ):
        setattr(SageMakerResponse, function.__name__, function)


def _group_of(name_or_arn: str) -> str:
    """Group name from a name, a group ARN, or a model package ARN."""
    if not name_or_arn:
        return ""
    if ":model-package-group/" in name_or_arn:
        return name_or_arn.split(":model-package-group/", 1)[1]
    if ":model-package/" in name_or_arn:
        return name_or_arn.split(":model-package/", 1)[1].split("/", maxsplit=1)[0]
    return name_or_arn
