"""Read GitLab CI files the way GitLab does: includes, ``!reference`` and ``extends``.

GitLab expands ``include: local``, ``!reference`` tags and ``extends`` before it looks at
a job. Two readers need that expanded job, not the text: the GitLab stand-in, which runs
the model-deploy job's own script lines (so the CI file and the local path cannot drift),
and the policy tests (OIDC on every AWS job, production gates, scripts that call real
commands). This module does the same expansion: includes are deep-merged (the including
file wins), ``!reference [job, key...]`` is replaced by the referenced value (nested lists
in ``script``/``rules`` are flattened, as GitLab does), then ``extends`` is applied left
to right with hashes deep-merged and lists replaced. A test compares the result with
gitlab-ci-local's ``--preview`` so the two cannot drift apart silently.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

#: Top-level keys that are not jobs.
GLOBAL_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)
#: Job keys whose values are lists of commands (nested lists are flattened).
FLATTENED_KEYS = frozenset({"script", "before_script", "after_script", "rules", "needs"})


@dataclass(frozen=True)
class Reference:
    """An unresolved ``!reference [job, key, ...]`` tag."""

    path: tuple[str, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that understands GitLab's ``!reference`` tag."""


def _construct_reference(loader: yaml.SafeLoader, node: yaml.Node) -> Reference:
    if not isinstance(node, yaml.SequenceNode):
        raise yaml.constructor.ConstructorError(
            None, None, "!reference expects a list like [.job, key]", node.start_mark
        )
    return Reference(tuple(str(item) for item in loader.construct_sequence(node)))


_Loader.add_constructor("!reference", _construct_reference)


def load_raw(path: Path) -> dict[str, Any]:
    """One CI file as data, ``!reference`` tags kept as :class:`Reference`."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of jobs and keywords")
    return data


def deep_merge(base: Any, override: Any) -> Any:
    """GitLab's merge: hashes merge key by key, anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = deep_merge(base[key], value) if key in base else value
        return merged
    return copy.deepcopy(override)


def _includes(data: dict[str, Any]) -> list[str]:
    spec = data.get("include") or []
    items = spec if isinstance(spec, list) else [spec]
    paths = []
    for item in items:
        if isinstance(item, str):
            paths.append(item)
        elif isinstance(item, dict) and "local" in item:
            paths.append(str(item["local"]))
        else:
            raise ValueError(f"only local includes are expected, got {item!r}")
    return paths


def load_with_includes(path: Path, root: Path) -> dict[str, Any]:
    """The file with its local includes merged underneath it."""
    data = load_raw(path)
    merged: dict[str, Any] = {}
    for include in _includes(data):
        merged = deep_merge(merged, load_with_includes(root / include.lstrip("/"), root))
    body = {k: v for k, v in data.items() if k != "include"}
    return deep_merge(merged, body)


def _lookup(data: dict[str, Any], ref: Reference) -> Any:
    value: Any = data
    for part in ref.path:
        if not isinstance(value, dict) or part not in value:
            raise KeyError(f"!reference {list(ref.path)} points to nothing")
        value = value[part]
    return value


def _flatten(items: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(_flatten(item))
        else:
            flat.append(item)
    return flat


def _resolve(value: Any, data: dict[str, Any], depth: int = 0) -> Any:
    if depth > 10:
        raise ValueError("!reference nested more than 10 levels")
    if isinstance(value, Reference):
        return _resolve(copy.deepcopy(_lookup(data, value)), data, depth + 1)
    if isinstance(value, dict):
        resolved = {}
        for key, item in value.items():
            expanded = _resolve(item, data, depth)
            if key in FLATTENED_KEYS and isinstance(expanded, list):
                expanded = _flatten(expanded)
            resolved[key] = expanded
        return resolved
    if isinstance(value, list):
        return [_resolve(item, data, depth) for item in value]
    return value


def _extended(name: str, data: dict[str, Any], seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if name in seen:
        raise ValueError(f"extends loop: {' -> '.join((*seen, name))}")
    if name not in data or not isinstance(data[name], dict):
        raise KeyError(f"extends target {name!r} does not exist")
    job = data[name]
    parents = job.get("extends") or []
    parents = [parents] if isinstance(parents, str) else parents
    merged: dict[str, Any] = {}
    for parent in parents:
        merged = deep_merge(merged, _extended(parent, data, (*seen, name)))
    return deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})


@dataclass(frozen=True)
class Pipeline:
    """A CI file after includes, references and extends: its keywords and its jobs."""

    path: Path
    config: dict[str, Any]
    jobs: dict[str, dict[str, Any]]
    #: Hidden jobs (``.name``), expanded like the visible ones.
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def stages(self) -> list[str]:
        return list(self.config.get("stages") or ["build", "test", "deploy"])


def load_pipeline(path: Path, root: Path) -> Pipeline:
    """Expand ``path`` as GitLab would and split it into keywords and (visible) jobs."""
    merged = load_with_includes(path, root)
    resolved = _resolve(merged, merged)
    expanded = {
        name: _extended(name, resolved) if isinstance(body, dict) else body
        for name, body in resolved.items()
    }
    jobs = {
        name: body
        for name, body in expanded.items()
        if name not in GLOBAL_KEYWORDS and not name.startswith(".") and isinstance(body, dict)
    }
    templates = {
        name: body
        for name, body in expanded.items()
        if name.startswith(".") and isinstance(body, dict)
    }
    config = {name: body for name, body in expanded.items() if name in GLOBAL_KEYWORDS}
    return Pipeline(path=path, config=config, jobs=jobs, templates=templates)


def script_lines(job: dict[str, Any], key: str = "script") -> list[str]:
    """The commands of one script section, as GitLab would run them."""
    value = job.get(key) or []
    return [str(line) for line in (value if isinstance(value, list) else [value])]
