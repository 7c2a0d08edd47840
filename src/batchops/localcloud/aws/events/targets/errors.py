"""Delivery errors the router does not retry."""

from __future__ import annotations

from batchops.errors import CloudError


class PermanentDeliveryError(CloudError):
    """A delivery that cannot succeed on retry (missing target, refused by policy...)."""

    retryable = False
