"""Where built definitions and step code are cached (``BATCHOPS_BUILD_DIR``).

Its own module so that ``build`` and ``step_code`` can both import it without importing
each other.
"""

from __future__ import annotations

import os
from pathlib import Path

BUILD_DIR_ENV = "BATCHOPS_BUILD_DIR"


def build_root() -> Path:
    return Path(os.environ.get(BUILD_DIR_ENV, ".batchops/build"))
