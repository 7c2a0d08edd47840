"""Credentials of a target's role, as the service acting for EventBridge gets them."""

from __future__ import annotations

import threading
import time
from typing import Any


class RoleSessions:
    """Clients and Lambda-style environment variables per role ARN (cached)."""

    def __init__(self, endpoint: str, session_name: str = "batchops-router") -> None:
        self.endpoint = endpoint
        self.session_name = session_name
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._env: dict[tuple[str, str], tuple[float, dict[str, str]]] = {}

    def clients(self, role_arn: str, region: str) -> Any:
        from batchops.aws import Clients

        with self._lock:
            clients = self._clients.get(role_arn)
            if clients is None:
                clients = self._clients[role_arn] = Clients(
                    region=region,
                    endpoint=self.endpoint,
                    role_arn=role_arn,
                    session_name=self.session_name,
                )
            return clients

    def environment(self, role_arn: str, region: str) -> dict[str, str]:
        """``AWS_*`` variables for ``role_arn`` as a Lambda function has them (cached 10 min)."""
        cached = self._env.get((role_arn, region))
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        creds = self.clients(role_arn, region).session().get_credentials().get_frozen_credentials()
        made = {
            "AWS_ACCESS_KEY_ID": creds.access_key,
            "AWS_SECRET_ACCESS_KEY": creds.secret_key,
            "AWS_SESSION_TOKEN": creds.token or "",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": self.endpoint,
        }
        self._env[(role_arn, region)] = (time.monotonic() + 600, made)
        return made
