"""What the local cloud adds to moto's backends so it behaves like AWS for batchops.

moto's backends are plain Python classes; the server process installs these wrappers
once, before it serves a request, so every client (CLI, SDK, Lambda handler, Terraform)
sees the same behaviour:

* pipeline executions are run by the executor: ``StartPipelineExecution`` queues the
  execution (idempotent on ``ClientRequestToken``); ``Describe``/``List`` executions,
  ``ListPipelineExecutionSteps``, ``StopPipelineExecution`` and the definition/parameters
  of an execution answer from the executor's records (moto returns "Succeeded" at once
  and has no steps);
* ``CreateModelPackage``/``UpdateModelPackage`` emit *SageMaker Model Package State
  Change*; ``UpdateModelPackage`` keeps the fields a request does not name (moto drops
  them);
* model package group resource policies (Put/Get/Delete), deletes of groups and
  packages, and cross-account reads of the registry that a group policy allows — what
  the staging and production accounts need to read the central registry;
* S3 objects created in a bucket with EventBridge notifications emit *Object Created* with
  AWS's shape, the bucket's notification settings report ``EventBridgeConfiguration``,
  and a request into another account's bucket needs that bucket's policy to allow it
  (moto would let it through).
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchops.localcloud.server import LocalCloud

_installed = threading.Lock()
_CLOUD: LocalCloud | None = None
_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:sagemaker:([a-z0-9-]+):(\d{12}):")


def cloud() -> LocalCloud:
    if _CLOUD is None:
        raise RuntimeError("the local cloud patches are not installed")
    return _CLOUD


def install(local_cloud: LocalCloud) -> None:
    """Install the wrappers (once per process) and bind them to ``local_cloud``."""
    global _CLOUD
    with _installed:
        first = _CLOUD is None
        _CLOUD = local_cloud
        if first:
            _install_sagemaker_executions()
            _install_model_registry()
            _install_s3()


def _epoch_ms(value: Any) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, str):
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return None
    return None


def _iso_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------------------
# pipeline executions
# ----------------------------------------------------------------------------------------
def _install_sagemaker_executions() -> None:
    from moto.core.responses import ActionResult
    from moto.sagemaker.exceptions import ResourceNotFound, ValidationError
    from moto.sagemaker.responses import SageMakerResponse
    from moto.sagemaker.utils import get_pipeline_from_name

    from batchops.localcloud.executor.store import ExecutionRecord

    def _record(self: Any) -> ExecutionRecord:
        arn = self._get_param("PipelineExecutionArn")
        record = cloud().store.get(arn)
        if record is None or record.account_id != self.current_account:
            raise ResourceNotFound(f"Pipeline execution {arn} does not exist")
        return record

    def start_pipeline_execution(self: Any) -> Any:
        name = self._get_param("PipelineName")
        backend = self.sagemaker_backend
        try:
            pipeline = get_pipeline_from_name(backend.pipelines, name)
        except Exception:
            raise ResourceNotFound(f"Pipeline {name} does not exist") from None
        token = self._get_param("ClientRequestToken")
        if token:
            existing = cloud().store.find_token(pipeline.arn, token)
            if existing:
                return ActionResult({"PipelineExecutionArn": existing.arn})
        params = self._get_param("PipelineParameters") or []
        bad = [p for p in params if not isinstance(p, dict) or "Name" not in p or "Value" not in p]
        if bad:
            raise ValidationError("PipelineParameters entries need Name and Value")
        execution_id = uuid.uuid4().hex[:12]
        arn = f"{pipeline.arn}/execution/{execution_id}"
        parallel = (
            self._get_param("ParallelismConfiguration") or pipeline.parallelism_configuration or {}
        )
        record = ExecutionRecord(
            arn=arn,
            execution_id=execution_id,
            pipeline_name=pipeline.pipeline_name,
            pipeline_arn=pipeline.arn,
            account_id=self.current_account,
            region=self.region,
            definition=pipeline.pipeline_definition,
            role_arn=pipeline.role_arn,
            parameters=[{"Name": p["Name"], "Value": str(p["Value"])} for p in params],
            display_name=self._get_param("PipelineExecutionDisplayName")
            or f"execution-{execution_id}",
            description=self._get_param("PipelineExecutionDescription") or "",
            client_request_token=token,
            parallelism=(parallel or {}).get("MaxParallelExecutionSteps"),
        )
        pipeline.last_execution_time = record.created
        cloud().executor.submit(record)
        return ActionResult({"PipelineExecutionArn": arn})

    def describe_pipeline_execution(self: Any) -> Any:
        return ActionResult(_record(self).describe())

    def list_pipeline_executions(self: Any) -> Any:
        name = self._get_param("PipelineName")
        try:
            pipeline = get_pipeline_from_name(self.sagemaker_backend.pipelines, name)
        except Exception:
            raise ResourceNotFound(f"Pipeline {name} does not exist") from None
        records = cloud().store.for_pipeline(pipeline.arn)
        if self._get_param("SortOrder") == "Ascending":
            records.reverse()
        limit = int(self._get_param("MaxResults") or 100)
        return ActionResult({"PipelineExecutionSummaries": [r.summary() for r in records[:limit]]})

    def list_pipeline_execution_steps(self: Any) -> Any:
        record = _record(self)
        with cloud().store.lock:
            steps = [s.api() for s in record.steps.values()]
        steps.sort(
            key=lambda s: s.get("StartTime") or datetime.min.replace(tzinfo=UTC), reverse=True
        )
        if self._get_param("SortOrder") == "Ascending":
            steps.reverse()
        return ActionResult({"PipelineExecutionSteps": steps})

    def stop_pipeline_execution(self: Any) -> Any:
        record = _record(self)
        cloud().executor.stop(record.arn)
        return ActionResult({"PipelineExecutionArn": record.arn})

    def describe_pipeline_definition_for_execution(self: Any) -> Any:
        record = _record(self)
        return ActionResult(
            {"PipelineDefinition": record.definition, "CreationTime": record.created}
        )

    def list_pipeline_parameters_for_execution(self: Any) -> Any:
        record = _record(self)
        values = record.resolved_parameters or {p["Name"]: p["Value"] for p in record.parameters}
        from batchops.localcloud.executor.expressions import stringify

        return ActionResult(
            {"PipelineParameters": [{"Name": k, "Value": stringify(v)} for k, v in values.items()]}
        )

    for function in (
        start_pipeline_execution,
        describe_pipeline_execution,
        list_pipeline_executions,
        list_pipeline_execution_steps,
        stop_pipeline_execution,
        describe_pipeline_definition_for_execution,
        list_pipeline_parameters_for_execution,
    ):
        setattr(SageMakerResponse, function.__name__, function)


# ----------------------------------------------------------------------------------------
# the model registry
# ----------------------------------------------------------------------------------------
def model_package_event(package: Any, account_id: str, region: str) -> dict[str, Any]:
    detail = {k: v for k, v in package.gen_response_object().items()}
    for key in ("CreationTime", "LastModifiedTime"):
        if key in detail:
            detail[key] = _epoch_ms(detail[key]) or detail[key]
    detail.setdefault("ModelPackageGroupName", package.model_package_group_name)
    detail.setdefault("ModelPackageName", package.model_package_name)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": account_id,
        "time": _iso_now(),
        "region": region,
        "resources": [package.arn],
        "detail": json.loads(json.dumps(detail, default=str)),
    }


def _policy_allows(
    policy: str | None, account_id: str, action: str, resource: str | None = None
) -> bool:
    if not policy:
        return False
    try:
        statements = json.loads(policy).get("Statement", [])
    except (json.JSONDecodeError, AttributeError):
        return False
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        principals = statement.get("Principal") or {}
        principals = principals.get("AWS", []) if isinstance(principals, dict) else principals
        principals = [principals] if isinstance(principals, str) else list(principals)
        matches_principal = any(
            p in ("*", account_id) or f":{account_id}:" in str(p) for p in principals
        )
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        matches_action = any(
            re.fullmatch(re.escape(a).replace(r"\*", ".*"), action, re.I) for a in actions
        )
        resources = statement.get("Resource", "*")
        resources = [resources] if isinstance(resources, str) else resources
        matches_resource = resource is None or any(
            re.fullmatch(re.escape(r).replace(r"\*", ".*"), resource) for r in resources
        )
        if matches_principal and matches_action and matches_resource:
            if statement.get("Effect") == "Deny" and not statement.get("Condition"):
                return False
            if statement.get("Effect") == "Allow":
                allowed = True
    return allowed


def _install_model_registry() -> None:
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
        policy = cloud().registry_policies.get((owner, region, group))
        if not _policy_allows(policy, self.current_account, f"sagemaker:{action}"):
            from moto.sagemaker.exceptions import SagemakerClientError

            raise SagemakerClientError(
                "AccessDeniedException",
                f"User: arn:aws:sts::{self.current_account}:assumed-role is not authorized to "
                f"perform: sagemaker:{action} on resource: {name_or_arn} because no resource-based "
                "policy allows it",
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
            cloud().bus.emit(model_package_event(package, self.current_account, self.region))
        return result

    def update_model_package(self: Any) -> Any:
        arn = self._get_param("ModelPackageArn")
        backend = self.sagemaker_backend
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
        cloud().bus.emit(model_package_event(package, self.current_account, self.region))
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
        cloud().registry_policies[(self.current_account, self.region, group)] = policy
        return ActionResult(
            {"ModelPackageGroupArn": self.sagemaker_backend.model_package_groups[group].arn}
        )

    def get_model_package_group_policy(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        policy = cloud().registry_policies.get((self.current_account, self.region, group))
        if policy is None:
            raise ResourceNotFound(f"Cannot find resource policy for model package group {group}")
        return ActionResult({"ResourcePolicy": policy})

    def delete_model_package_group_policy(self: Any) -> Any:
        group = _group_of(self._get_param("ModelPackageGroupName"))
        cloud().registry_policies.pop((self.current_account, self.region, group), None)
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
        cloud().registry_policies.pop((self.current_account, self.region, group), None)
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


# ----------------------------------------------------------------------------------------
# S3
# ----------------------------------------------------------------------------------------
_REASONS = {"Put": "PutObject", "Post": "POST Object", "Copy": "CopyObject"}


def _install_s3() -> None:
    from moto.core.responses import ActionResult
    from moto.s3 import notifications
    from moto.s3.exceptions import S3ClientError
    from moto.s3.models import FakeBucket, s3_backends
    from moto.s3.responses import S3Response

    def send_event_bridge_message(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        if "ObjectCreated" not in event_name:
            return
        kind = event_name.rsplit(":", 1)[-1]
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": account_id,
            "time": _iso_now(),
            "region": bucket.region_name,
            "resources": [f"arn:aws:s3:::{bucket.name}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket.name},
                "object": {
                    "key": key.name,
                    "size": key.size,
                    "etag": key.etag.replace('"', ""),
                    **({"version-id": key.version_id} if key.version_id else {}),
                    "sequencer": f"{int(datetime.now(UTC).timestamp() * 1e6):016X}",
                },
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": account_id,
                "source-ip-address": "127.0.0.1",
                "reason": _REASONS.get(kind, kind),
            },
        }
        cloud().bus.emit(event)

    notifications._send_event_bridge_message = send_event_bridge_message

    original_get_notification = S3Response.get_bucket_notification

    def get_bucket_notification(self: Any) -> Any:
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or config.event_bridge is None:
            return original_get_notification(self)
        response = original_get_notification(self)

        # rebuild with the EventBridge setting moto stores but does not return
        def build(item: Any, arn_key: str) -> dict[str, Any]:
            entry = {"Id": item.id, arn_key: item.arn, "Events": item.events}
            if item.filters:
                entry["Filter"] = {"Key": {"FilterRules": item.filters["S3Key"]["FilterRule"]}}
            return entry

        result = {
            "TopicConfigurations": [build(t, "TopicArn") for t in config.topic],
            "QueueConfigurations": [build(q, "QueueArn") for q in config.queue],
            "LambdaFunctionConfigurations": [
                build(c, "LambdaFunctionArn") for c in config.cloud_function
            ],
            "EventBridgeConfiguration": {},
        }
        del response
        self.data["Action"] = "GetBucketNotificationConfiguration"
        return self.serialized(ActionResult(result))

    S3Response.get_bucket_notification = get_bucket_notification  # type: ignore[method-assign]

    original_authorize = S3Response._authenticate_and_authorize_s3_action

    def authorize(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        if bucket_name and bucket_name in s3_backends.bucket_accounts:
            _partition, owner = s3_backends.bucket_accounts[bucket_name]
            caller = self.current_account
            if owner != caller:
                bucket = s3_backends[owner][_partition].buckets.get(bucket_name)
                policy = bucket.policy.decode() if bucket is not None and bucket.policy else None
                action = _s3_action(self.method, key_name)
                resource = f"arn:aws:s3:::{bucket_name}" + (f"/{key_name}" if key_name else "")
                if not _policy_allows(policy, caller, action, resource):
                    raise S3ClientError(
                        "AccessDenied",
                        f"User in account {caller} is not authorized to perform {action} on "
                        f"bucket {bucket_name} of account {owner}: no bucket policy allows it",
                    )
        original_authorize(self, bucket_name=bucket_name, key_name=key_name)

    S3Response._authenticate_and_authorize_s3_action = authorize  # type: ignore[method-assign]

    def get_permission(self: Any, action: str, resource: str) -> Any:
        # moto ignores a statement's Condition, so the TLS-only Deny ("aws:SecureTransport"
        # false) would deny everything on plain-HTTP loopback: evaluate without the
        # conditional statements (the local cloud has no transport to secure).
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode())
        statements = document.get("Statement", [])
        if isinstance(statements, dict):
            statements = [statements]
        kept = [st for st in statements if "Condition" not in st]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(
            action, resource
        )

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _s3_action(method: str, key: str | None) -> str:
    if key:
        return {
            "GET": "s3:GetObject",
            "HEAD": "s3:GetObject",
            "PUT": "s3:PutObject",
            "POST": "s3:PutObject",
            "DELETE": "s3:DeleteObject",
        }.get(method, "s3:GetObject")
    return {"GET": "s3:ListBucket", "HEAD": "s3:ListBucket", "DELETE": "s3:DeleteBucket"}.get(
        method, "s3:PutBucketPolicy"
    )
