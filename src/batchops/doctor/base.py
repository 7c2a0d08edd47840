"""What every doctor check shares: its failure, its result, and what it reads through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops.aws import Clients
from batchops.config import Settings


class Failure(Exception):
    """A check found its piece missing or wrong: ``problem; remedy`` as one line."""

    def __init__(self, problem: str, remedy: str) -> None:
        super().__init__(f"{problem}; {remedy}")


@dataclass(frozen=True)
class CheckResult:
    check: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.check}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "ok": self.ok, "detail": self.detail}


@dataclass
class Context:
    """What every check reads through: the settings and the account's clients."""

    settings: Settings
    clients: Clients
    accounts_dir: Path
    _cache: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        return self.clients.client(service)

    def key_arn(self, key_id: str) -> str:
        """The key ARN behind an alias or key id/ARN (None-safe, cached)."""
        if key_id not in self._cache:
            self._cache[key_id] = self.client("kms").describe_key(KeyId=key_id)["KeyMetadata"]
        return str(self._cache[key_id]["Arn"])


Check = Callable[[Context], str]
