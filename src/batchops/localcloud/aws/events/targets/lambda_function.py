"""Lambda targets: the function's handler runs in-process, as a Lambda invocation would.

moto's ``Invoke`` needs Docker; the local cloud imports the handler named in the function's
configuration and calls it with the function's environment, the credentials of its role,
its region and the local endpoint, and a context object. A missing function or handler is a
:class:`PermanentDeliveryError` (EventBridge could not invoke it); an exception the handler
raises is a :class:`FunctionError` (the function ran: Lambda's retries apply).
"""

from __future__ import annotations

import importlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from batchops.localcloud.aws.events.targets.credentials import RoleSessions
from batchops.localcloud.aws.events.targets.errors import FunctionError, PermanentDeliveryError


@dataclass
class LambdaContext:
    """The parts of AWS's context object our handlers (and most others) use."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 128
    timeout_s: int = 60
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


def find_function(arn_or_name: str, account: str = "", region: str = "") -> Any:
    """moto's function object for an ARN (or a name in ``account``/``region``)."""
    from moto.awslambda.models import lambda_backends

    if arn_or_name.startswith("arn:"):
        parts = arn_or_name.split(":")
        region, account, name = parts[3], parts[4], parts[6]
    else:
        name = arn_or_name
    try:
        return lambda_backends[account][region].get_function(name)
    except Exception:
        raise PermanentDeliveryError(
            f"Lambda function {name} does not exist in {account}", "RESOURCE_NOT_FOUND"
        ) from None


def on_failure_destination(function_arn: str) -> str | None:
    """Where Lambda sends an event that failed every attempt: the function's dead-letter
    queue (``DeadLetterConfig.TargetArn``), else its on-failure destination."""
    try:
        function = find_function(function_arn)
    except PermanentDeliveryError:
        return None
    dead_letter = (getattr(function, "batchops_dead_letter_config", None) or {}).get("TargetArn")
    if dead_letter:
        return str(dead_letter)
    for config in function.event_invoke_config or []:
        destination = ((config.config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        if destination:
            return str(destination)
    return None


def invoke_function(
    payload: Any, *, account: str, region: str, name: str, sessions: RoleSessions
) -> Any:
    from batchops.functions._runtime import ENVIRONMENT
    from batchops.localcloud.aws.awslambda.environment import environment_refusal

    function = find_function(name, account, region)
    refusal = environment_refusal(function)  # Lambda decrypts the environment first
    if refusal is not None:
        raise refusal
    module_name, _, attribute = str(function.handler or "").rpartition(".")
    try:
        entry = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        raise PermanentDeliveryError(
            f"Lambda {name}: handler {function.handler!r} is not importable in the local "
            "cloud (it runs handlers in-process)",
            "RESOURCE_NOT_FOUND",
        ) from None
    variables = dict(function.environment_vars or {})
    variables.update(sessions.environment(function.role, region))
    variables["AWS_LAMBDA_FUNCTION_NAME"] = function.function_name
    context = LambdaContext(
        function.function_name, function.function_arn, timeout_s=int(function.timeout or 60)
    )
    token = ENVIRONMENT.set(variables)
    try:
        return entry(payload, context)
    except Exception as exc:
        raise FunctionError(exc) from exc
    finally:
        ENVIRONMENT.reset(token)
