"""The CI file reader the tests share lives in the package (the GitLab stand-in runs jobs
from the same expansion): :mod:`batchops.localcloud.gitlab.ci_config`."""

from batchops.localcloud.gitlab.ci_config import (  # noqa: F401
    FLATTENED_KEYS,
    GLOBAL_KEYWORDS,
    Pipeline,
    Reference,
    deep_merge,
    load_pipeline,
    load_raw,
    load_with_includes,
    script_lines,
)
