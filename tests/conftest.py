"""Fixtures shared by every test suite of the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never see a developer's BATCHOPS_* or AWS_* settings."""
    for key in list(os.environ):
        if key.startswith(("BATCHOPS_", "AWS_")) and key != "BATCHOPS_TEST_KEEP":
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("BATCHOPS_CONFIG_DIR", str(REPO / "config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
