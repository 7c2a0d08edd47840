"""Lambda functions: the dead-letter queue moto forgets, and ``Invoke`` without Docker.

* ``DeadLetterConfig`` given to ``CreateFunction``/``UpdateFunctionConfiguration`` is kept and
  returned by ``GetFunction(Configuration)`` (moto drops it); the event router sends an event
  there when Lambda's asynchronous retries are exhausted, as Lambda does.
* ``Invoke`` runs the function's handler in-process, like the router does for EventBridge
  targets (moto would start a Docker container): ``RequestResponse`` returns the handler's
  result, or ``X-Amz-Function-Error: Unhandled`` with ``errorMessage``/``errorType`` when it
  raises; ``Event`` is queued and answers 202. ``batchops events redrive`` uses it to hand a
  dead letter back to its function, on AWS and here alike.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any
from urllib.parse import unquote

from batchops.localcloud.aws.context import current_cloud


def install() -> None:
    from moto.awslambda.models import LambdaFunction
    from moto.awslambda.responses import LambdaResponse

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_configuration = LambdaFunction.get_configuration

    def init(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, account_id, spec, *args, **kwargs)
        self.batchops_dead_letter_config = spec.get("DeadLetterConfig") or None

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            self.batchops_dead_letter_config = config_updates["DeadLetterConfig"] or None
        return dict(original_update(self, config_updates))

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config = dict(original_configuration(self, on_create))
        dead_letter = getattr(self, "batchops_dead_letter_config", None)
        if dead_letter and dead_letter.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dead_letter["TargetArn"]}
        return config

    def invoke(self: Any) -> tuple[int, dict[str, str], str | bytes]:
        from batchops.localcloud.aws.events.targets.errors import FunctionError
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
