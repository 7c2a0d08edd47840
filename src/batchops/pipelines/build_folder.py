"""Where generated pipeline definitions and step code archives are written.

A module of its own so that :mod:`batchops.pipelines.build` and
:mod:`batchops.pipelines.step_code` can both use it without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "BATCHOPS_BUILD_DIR"


def build_root() -> Path:
    return Path(os.environ.get(BUILD_DIR_ENV, ".batchops/build"))
