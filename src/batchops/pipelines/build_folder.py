"""Where build artefacts (definitions, step code archives) are written."""

from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "BATCHOPS_BUILD_DIR"


def build_root() -> Path:
    """``$BATCHOPS_BUILD_DIR``, else ``.batchops/build`` in the working directory."""
    return Path(os.environ.get(BUILD_DIR_ENV, ".batchops/build"))
