"""Delivery errors: what the router does not retry, and what Lambda (not EventBridge) retries."""

from __future__ import annotations

from batchops.errors import CloudError


class PermanentDeliveryError(CloudError):
    """A delivery that cannot succeed on retry (missing target, refused by policy, 4xx...).

    EventBridge sends such events to the target's dead-letter queue without retrying.
    """

    retryable = False

    def __init__(self, message: str, error_code: str = "NON_RETRYABLE") -> None:
        super().__init__(message)
        self.error_code = error_code


class FunctionError(Exception):
    """The Lambda function ran and raised: Lambda's asynchronous retries apply from here."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause
