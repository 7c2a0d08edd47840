"""Pipeline projects: what a team folder (model-build, model-deploy) declares to batchops.

A project is found through the ``batchops.pipelines`` entry-point group, so the CLI never
imports a team's code by path and each team owns its folder. A project lists its
pipelines; each pipeline names the settings field holding its SageMaker name (the seed
article's ``pipeline_train``, ``pipeline_trainwhpo``, ``pipeline_inf``), the environments
it is deployed to, and the dotted path of the function that builds it with the SDK
(imported only when a definition must be generated: the SDK costs seconds to import).
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchops.errors import ConfigError

if TYPE_CHECKING:
    from batchops.config import Settings

ENTRY_POINT_GROUP = "batchops.pipelines"


@dataclass(frozen=True)
class PipelineSpec:
    key: str  #: short name used on the command line, e.g. ``training``
    name_setting: str  #: settings field with the pipeline's name, e.g. ``pipeline_train``
    builder: str  #: ``module:function(ctx) -> sagemaker Pipeline``
    environments: tuple[str, ...]
    description: str = ""

    def pipeline_name(self, settings: Settings) -> str:
        return str(getattr(settings, self.name_setting))

    def load_builder(self) -> Callable[..., Any]:
        module, _, attribute = self.builder.partition(":")
        return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class PipelineProject:
    name: str
    root: Path  #: the team folder; every file under it feeds the definition cache key
    pipelines: tuple[PipelineSpec, ...]
    source_globs: tuple[str, ...] = ("pipelines/*.py", "pipelines/*.yaml", "steps/*.py")
    extra: dict[str, Any] = field(default_factory=dict)
    #: the definitions depend on the dataset spec (``batchops.data.spec``): its digest is
    #: part of their cache key, so another spec builds other definitions
    reads_dataset_spec: bool = False

    def spec(self, key: str) -> PipelineSpec:
        for spec in self.pipelines:
            if key in (spec.key, spec.name_setting):
                return spec
        known = ", ".join(s.key for s in self.pipelines)
        raise ConfigError(f"project {self.name} has no pipeline {key!r} (known: {known})")

    def golden_path(self, spec: PipelineSpec, env: str, variant: str = "") -> Path:
        """The committed, normalised definition of ``spec`` in ``env`` (golden tests);
        ``variant`` names a non-default setting it was built with (``model-monitor``)."""
        suffix = f"-{variant}" if variant else ""
        return self.root / "tests" / "golden" / f"{spec.key}-{env}{suffix}.json"

    def for_environment(self, env: str) -> list[PipelineSpec]:
        return [spec for spec in self.pipelines if env in spec.environments]

    def source_files(self) -> list[Path]:
        files: set[Path] = set()
        for pattern in self.source_globs:
            files.update(p for p in self.root.glob(pattern) if p.is_file())
        return sorted(files)

    def source_digest(self) -> str:
        digest = hashlib.sha256()
        for path in self.source_files():
            digest.update(path.relative_to(self.root).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
        return digest.hexdigest()


def _entry_points() -> Iterable[Any]:
    return entry_points(group=ENTRY_POINT_GROUP)


def projects() -> dict[str, PipelineProject]:
    found: dict[str, PipelineProject] = {}
    for point in _entry_points():
        project = point.load()
        if not isinstance(project, PipelineProject):
            raise ConfigError(
                f"entry point {point.name} ({point.value}) is not a batchops PipelineProject"
            )
        found[project.name] = project
    return found


def project(name: str) -> PipelineProject:
    found = projects()
    if name not in found:
        known = ", ".join(sorted(found)) or "none installed"
        raise ConfigError(f"no pipeline project {name!r} (known: {known}); run `make install`")
    return found[name]


def find_pipeline(key: str, env: str) -> tuple[PipelineProject, PipelineSpec]:
    """The project and pipeline a short key (``training``, ``hpo``, ``inference``) names."""
    matches = [
        (proj, spec)
        for proj in projects().values()
        for spec in proj.pipelines
        if key in (spec.key, spec.name_setting)
    ]
    if not matches:
        known = sorted(s.key for p in projects().values() for s in p.pipelines)
        raise ConfigError(f"no pipeline {key!r} (known: {', '.join(known)})")
    proj, spec = matches[0]
    if env not in spec.environments:
        raise ConfigError(
            f"pipeline {spec.key} runs in {', '.join(spec.environments)}, not in {env}"
        )
    return proj, spec
