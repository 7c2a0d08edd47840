"""Lambda targets: the function's handler runs in-process, as a Lambda invocation would.

moto's ``Invoke`` needs Docker; the local cloud imports the handler named in the function's
configuration and calls it with the function's environment, the credentials of its role,
its region and the local endpoint, and a context object.
"""

from __future__ import annotations

import importlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from batchops.localcloud.aws.events.targets.credentials import RoleSessions
from batchops.localcloud.aws.events.targets.errors import PermanentDeliveryError


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


def invoke_function(
    payload: Any, *, account: str, region: str, name: str, sessions: RoleSessions
) -> Any:
    from moto.awslambda.models import lambda_backends

    from batchops.functions._runtime import ENVIRONMENT

    try:
        function = lambda_backends[account][region].get_function(name)
    except Exception:
        raise PermanentDeliveryError(
            f"Lambda function {name} does not exist in {account}"
        ) from None
    module_name, _, attribute = str(function.handler or "").rpartition(".")
    try:
        entry = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        raise PermanentDeliveryError(
            f"Lambda {name}: handler {function.handler!r} is not importable in the local "
            "cloud (it runs handlers in-process)"
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
    finally:
        ENVIRONMENT.reset(token)
