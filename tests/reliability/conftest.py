"""A local cloud for the fault tests: AWS's retry delays shrunk 100x, deploy jobs off.

The approval Lambda's GitLab settings are changed through the Lambda API (as an operator
would), so the client timeout and backoff fit a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batchops.aws import Clients, clients_for
from batchops.config import load_settings
from batchops.localcloud.server import LocalCloud

#: Lambda's asynchronous retries after 60 s and 120 s -> 0.6 s and 1.2 s
TIME_SCALE = 0.01


@pytest.fixture(scope="package")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    from batchops.localcloud.runtime import start_local_cloud

    started = start_local_cloud(
        state_dir=Path(tmp_path_factory.mktemp("reliability-cloud")),
        options={"gitlab_run_jobs": False, "retry_time_scale": TIME_SCALE},
    )
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture()
def account(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Clients]:
    monkeypatch.setenv("BATCHOPS_ENDPOINT", cloud.endpoint)

    def make(env: str) -> Clients:
        return clients_for(load_settings(env), cloud.endpoint)

    return make


@pytest.fixture()
def fast_gitlab_client(cloud: LocalCloud, account, fast_approval_client) -> Iterator[None]:
    """The approval Lambda with a 1 s GitLab timeout and 50 ms backoff."""
    variables = fast_approval_client(account("data-science"))
    assert cloud.gitlab is not None
    cloud.gitlab.faults.clear()
    yield
    cloud.gitlab.faults.clear()
    account("data-science").client("lambda").update_function_configuration(
        FunctionName="batchops-approval-trigger", Environment={"Variables": variables}
    )
