"""Lambda functions: the dead-letter queue moto forgets, the environment's customer managed
key, and ``Invoke`` without Docker.

* ``DeadLetterConfig`` given to ``CreateFunction``/``UpdateFunctionConfiguration`` is kept and
  returned by ``GetFunction(Configuration)`` (moto drops it); the event router sends an event
  there when Lambda's asynchronous retries are exhausted, as Lambda does.
* ``Invoke`` runs the function's handler in-process, like the router does for EventBridge
  targets (moto would start a Docker container): ``RequestResponse`` returns the handler's
  result, or ``X-Amz-Function-Error: Unhandled`` with ``errorMessage``/``errorType`` when it
  raises; ``Event`` is queued and answers 202. ``batchops events redrive`` uses it to hand a
  dead letter back to its function, on AWS and here alike.
* ``KMSKeyArn`` (the key the environment is encrypted with) is checked as Lambda checks it:
  an alias is refused (``InvalidParameterValueException``, KMS's ``InvalidArnException``), a
  key that does not exist too; a customer managed key gets the grant Lambda creates on it for
  the function's execution role (``Decrypt``, the function's ARN as encryption context).
  The caller's ``kms:CreateGrant``/``kms:Encrypt`` are checked by the authorization.
* Before a function runs (``Invoke``, an EventBridge target), Lambda decrypts its environment
  as the execution role (the grant, or the role's policies and the key policy): refused, the
  invocation fails with ``KMSAccessDeniedException``, a disabled key with
  ``KMSDisabledException`` (HTTP 502, as Lambda's ``Invoke`` answers them).
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any
from urllib.parse import unquote

from batchops.localcloud.aws.awslambda.environment import EnvironmentKeyError, _customer_key
from batchops.localcloud.aws.context import current_cloud
from batchops.localcloud.aws.events.targets.errors import FunctionError


def _environment_grant(function: Any) -> None:
    """Refuse an alias or a missing key as Lambda does; create the grant Lambda creates."""
    from batchops.localcloud.aws.iam.authorization import (
        LAMBDA_GRANT_OPERATIONS,
        lambda_configuration_refusal,
    )
    from batchops.localcloud.aws.kms.grants import (
        ALIAS_REFUSAL,
        ensure_service_grant,
        is_alias,
        key_of,
    )

    key_id = _customer_key(function)
    if key_id is None:
        return
    if is_alias(key_id):
        raise lambda_configuration_refusal(*ALIAS_REFUSAL)
    kms_key = key_of(key_id, account=function.account_id, region=function.region)
    if kms_key is None:
        raise lambda_configuration_refusal("NotFoundException", f"Key '{key_id}' does not exist")
    ensure_service_grant(
        kms_key,
        grantee=str(function.role),
        operations=list(LAMBDA_GRANT_OPERATIONS),
        constraints={"EncryptionContextEquals": {"aws:lambda:FunctionArn": function.function_arn}},
        name=f"lambda-environment-{function.function_name}",
        retiring_principal="lambda.amazonaws.com",
    )


def install() -> None:
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_configuration = LambdaFunction.get_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.batchops_dead_letter_config = spec.get("DeadLetterConfig") or None
        _environment_grant(self)

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.batchops_dead_letter_config = config_updates["DeadLetterConfig"] or None
        if "KMSKeyArn" in config_updates or "Role" in config_updates:
            before = (self.kms_key_arn, self.role)
            self.kms_key_arn = config_updates.get("KMSKeyArn", self.kms_key_arn)
            self.role = config_updates.get("Role", self.role)
            try:
                _environment_grant(self)
            except Exception:
                self.kms_key_arn, self.role = before
                raise
        return dict(original_update(self, config_updates))

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = dict(original_configuration(self, on_create))
        dead_letter = getattr(self, "batchops_dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dead_letter["TargetArn"]}
        return config

    def invoke(self: Any) -> tuple[int, dict[str, str], str | bytes]:
        from batchops.localcloud.aws.events.targets.lambda_function import invoke_function

        name = unquote(self.path.rsplit("/", 2)[-2])
        function = self.backend.get_function(name)
        payload: Any = json.loads(self.body) if self.body else {}
        cloud = current_cloud()
        kind = self.headers.get("X-Amz-Invocation-Type") or "RequestResponse"

        def run() -> Any:
            return invoke_function(
                payload,
                account=function.account_id,
                region=function.region,
                name=function.function_name,
                sessions=cloud.router_sessions(),
            )

        if kind == "DryRun":
            return 204, {"status": "204"}, ""
        if kind == "Event":
            from batchops.localcloud.aws.context import serving

            def background() -> None:
                # an Event invoke has no answer; the handler logged what went wrong
                with serving(cloud), contextlib.suppress(FunctionError):
                    run()

            threading.Thread(target=background, name="lambda-event-invoke", daemon=True).start()
            return 202, {"status": "202"}, ""
        headers = {"content-type": "application/json", "X-Amz-Executed-Version": "$LATEST"}
        try:
            result = run()
        except EnvironmentKeyError as exc:
            error = {"Type": "User", "message": exc.message}
            answer = {"status": str(exc.status), "x-amzn-ErrorType": exc.code}
            return exc.status, answer, json.dumps(error)
        except FunctionError as exc:
            cause = exc.cause
            headers["X-Amz-Function-Error"] = "Unhandled"
            body = {"errorMessage": str(cause), "errorType": type(cause).__name__}
            return 200, headers, json.dumps(body)
        return 200, headers, json.dumps(result, default=str)

    LambdaFunction.__init__ = init  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]
    LambdaResponse.invoke = invoke  # type: ignore[method-assign]
