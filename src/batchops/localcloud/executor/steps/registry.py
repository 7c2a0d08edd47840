"""Model, CreateModel and RegisterModel steps: calls to the SageMaker API, like AWS makes.

The request in the definition is sent as is (after resolution) to the SageMaker API of
the local cloud, in the account of the step's role, so the registry records, events and
cross-account rules are the ones every other client sees. The SDK writes a few values
the API rejects (``"SkipModelValidation": "None"``, empty ``Bias``/``Explainability``,
``null`` fields): they are dropped the way the service ignores them.
"""

from __future__ import annotations

import secrets
from typing import Any

from batchops.aws import error_message
from batchops.localcloud.executor.context import StepContext, StepFailed, StepOutcome

_REGISTER_DROP = {"SkipModelValidation": "None"}


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _clean(v) for k, v in value.items() if v is not None and v not in ({}, [])}
        return {k: v for k, v in cleaned.items() if v != {}}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _register_request(args: dict[str, Any]) -> dict[str, Any]:
    request = {k: v for k, v in args.items() if _REGISTER_DROP.get(k) != v}
    request = _clean(request)
    for container in (request.get("InferenceSpecification") or {}).get("Containers") or []:
        env = container.get("Environment") or {}
        container["Environment"] = {k: str(v) for k, v in env.items() if v not in ("", None)}
        if not container["Environment"]:
            container.pop("Environment")
    return request


def run_register(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    from botocore.exceptions import ClientError

    request = _register_request(args)
    role = ctx.options.get("pipeline_role_arn")
    try:
        arn = ctx.sagemaker(role).create_model_package(**request)["ModelPackageArn"]
    except ClientError as exc:
        raise StepFailed(f"ClientError: CreateModelPackage: {error_message(exc)}") from None
    except Exception as exc:  # botocore ParamValidationError and friends
        raise StepFailed(f"ClientError: CreateModelPackage: {str(exc).splitlines()[0]}") from None
    ctx.log(f"registered {arn}")
    return StepOutcome(
        properties={**args, "ModelPackageArn": arn, "ModelPackageName": arn.rsplit("/", 1)[-1]},
        metadata={"RegisterModel": {"Arn": arn}},
    )


def run_model(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    from botocore.exceptions import ClientError

    request = _clean(dict(args))
    name = request.pop("ModelName", None) or f"pipelines-{ctx.execution_id}-{secrets.token_hex(3)}"
    role = request.get("ExecutionRoleArn") or ctx.options.get("pipeline_role_arn")
    try:
        arn = ctx.sagemaker(role).create_model(ModelName=name, **request)["ModelArn"]
    except ClientError as exc:
        raise StepFailed(f"ClientError: CreateModel: {error_message(exc)}") from None
    ctx.log(f"created model {name}")
    return StepOutcome(
        properties={**args, "ModelName": name, "ModelArn": arn},
        metadata={"Model": {"Arn": arn}},
    )
