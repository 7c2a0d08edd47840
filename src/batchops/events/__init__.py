"""EventBridge event patterns as data: one JSON file per rule, one source of truth.

Terraform reads these files with ``templatefile()`` and the local cloud's bootstrap reads
them through :func:`load_pattern`; both fill the same ``${name}`` placeholders from the
same settings (:func:`pattern_values`). Each file is valid JSON before substitution, so a
broken file is caught by name in the tests, not at deploy time.

``rules.json`` beside them declares each rule once: its description, the environments that
deploy it, its one target (id, kind, the function or bus, an optional input transformer) and
every target's RetryPolicy. ``shared-modules/batchops-account`` reads it with
``jsondecode(file())``, the bootstrap through :func:`rule_declarations`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchops import lifecycle
from batchops.errors import ConfigError

if TYPE_CHECKING:
    from batchops.config import Settings

PATTERN_DIR = Path(__file__).parent
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
RULES_FILE = PATTERN_DIR / "rules.json"

#: The step of the inference pipeline whose failure means "retrain" (the lifecycle contract's).
MODEL_QUALITY_STEP = lifecycle.MODEL_QUALITY_STEP


def pattern_names() -> list[str]:
    return sorted(path.stem for path in PATTERN_DIR.glob("*.json") if path != RULES_FILE)


def rule_declarations() -> dict[str, Any]:
    """``rules.json``: ``retry_policy`` and ``rules`` (pattern stem -> declaration)."""
    return dict(json.loads(RULES_FILE.read_text(encoding="utf-8")))


def pattern_path(name: str) -> Path:
    path = PATTERN_DIR / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"event pattern {name!r} not found in {PATTERN_DIR}")
    return path


def placeholders(name: str) -> set[str]:
    return set(_PLACEHOLDER.findall(pattern_path(name).read_text(encoding="utf-8")))


def pipeline_arn(region: str, account_id: str, pipeline_name: str) -> str:
    """SageMaker pipeline ARNs carry the name in lower case."""
    return f"arn:aws:sagemaker:{region}:{account_id}:pipeline/{pipeline_name.lower()}"


def pattern_values(settings: Settings) -> dict[str, str]:
    """Placeholder values for an environment (the same map Terraform builds)."""
    arn = lambda name: pipeline_arn(settings.region, settings.account_id, name)  # noqa: E731
    return {
        "account_id": settings.account_id,
        "region": settings.region,
        "bucket_name": settings.bucket_name,
        "training_data_prefix": settings.training_data_prefix,
        "inference_data_prefix": settings.inference_data_prefix,
        "model_package_group_name": settings.model_package_group_name,
        "pipeline_train_arn": arn(settings.pipeline_train),
        "pipeline_trainwhpo_arn": arn(settings.pipeline_trainwhpo),
        "pipeline_inf_arn": arn(settings.pipeline_inf),
        "pipeline_inf": settings.pipeline_inf.lower(),
        "model_quality_step_name": MODEL_QUALITY_STEP,
    }


def render(text: str, values: dict[str, str], *, source: str = "pattern") -> str:
    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"{source}: placeholder ${{{key}}} has no value")
        # Values land inside JSON strings: escape them as JSON would.
        return json.dumps(values[key])[1:-1]

    return _PLACEHOLDER.sub(substitute, text)


def load_pattern(name: str, values: dict[str, str]) -> dict[str, Any]:
    path = pattern_path(name)
    text = render(path.read_text(encoding="utf-8"), values, source=str(path))
    try:
        pattern = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: invalid JSON: {exc.msg}") from None
    if not isinstance(pattern, dict):
        raise ConfigError(f"{path}: an event pattern must be a JSON object")
    return pattern
