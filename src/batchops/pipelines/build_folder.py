"""Where built definitions are cached (``.batchops/build`` or ``BATCHOPS_BUILD_DIR``).

Its own module so that :mod:`batchops.pipelines.build` and
:mod:`batchops.pipelines.step_code` can both use it without importing each other.
"""

from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "BATCHOPS_BUILD_DIR"


def build_root() -> Path:
    return Path(os.environ.get(BUILD_DIR_ENV, ".batchops/build"))
