"""A local cloud shared by the local-cloud tests of one session (starting one costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    state = tmp_path_factory.mktemp("localcloud")
    started = start_local_cloud(state_dir=Path(state), options={"keep_workspaces": True})
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture()
def account(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """``account("staging")`` -> Clients acting in that account of the local cloud."""
    monkeypatch.setenv("BATCHOPS_ENDPOINT", cloud.endpoint)

    def make(env: str) -> Clients:
        return clients_for(load_settings(env), cloud.endpoint)

    return make
