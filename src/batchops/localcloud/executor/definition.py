"""A pipeline definition as data: steps, parameters and the dependency graph.

Edges come from three places, as in SageMaker: explicit ``DependsOn``, implicit data
dependencies (a ``Get`` of another step's properties, ``Std:JsonGet`` of its property
files), and Condition branches (a step in ``IfSteps``/``ElseSteps`` runs only after its
condition chose that branch). Everything is validated before anything runs (kedro's
habit): unknown step types, references to steps that do not exist, duplicate names and
cycles are errors naming the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.expressions import coerce_parameter, references

SUPPORTED_TYPES = frozenset(
    {
        "Processing",
        "Training",
        "Tuning",
        "QualityCheck",
        "Transform",
        "Model",
        "CreateModel",
        "RegisterModel",
        "Condition",
        "Fail",
    }
)


@dataclass
class StepDef:
    name: str
    type: str
    arguments: dict[str, Any]
    raw: dict[str, Any]
    depends_on: set[str] = field(default_factory=set)
    branch_of: tuple[str, bool] | None = None  # (condition step, branch taken)

    @property
    def property_files(self) -> list[dict[str, Any]]:
        return list(self.raw.get("PropertyFiles") or [])


@dataclass
class Definition:
    parameters: list[dict[str, Any]]
    steps: dict[str, StepDef]

    def resolve_parameters(self, overrides: dict[str, Any]) -> dict[str, Any]:
        declared = {p["Name"]: p for p in self.parameters}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise PipelineError(
                f"unknown pipeline parameter(s) {unknown}; the pipeline declares {sorted(declared)}"
            )
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            kind = spec.get("Type", "String")
            if name in overrides:
                values[name] = coerce_parameter(name, kind, overrides[name])
            elif "DefaultValue" in spec:
                values[name] = coerce_parameter(name, kind, spec["DefaultValue"])
            else:
                raise PipelineError(f"parameter {name} has no default and was not given")
        return values

    def order(self) -> list[str]:
        """A topological order (for display and validation)."""
        done: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: tuple[str, ...]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                raise PipelineError(f"dependency cycle: {' -> '.join((*trail, name))}")
            state[name] = 1
            for dep in sorted(self.steps[name].depends_on):
                visit(dep, (*trail, name))
            state[name] = 2
            done.append(name)

        for name in self.steps:
            visit(name, ())
        return done


def _collect(
    steps: list[dict[str, Any]], into: dict[str, StepDef], branch: tuple[str, bool] | None
) -> None:
    for raw in steps:
        if not isinstance(raw, dict) or "Name" not in raw or "Type" not in raw:
            raise PipelineError(f"malformed step (needs Name and Type): {str(raw)[:120]}")
        name = raw["Name"]
        if name in into:
            raise PipelineError(f"step name {name!r} is used twice")
        step = StepDef(
            name=name,
            type=raw["Type"],
            arguments=raw.get("Arguments") or {},
            raw=raw,
            branch_of=branch,
        )
        into[name] = step
        if step.type == "Condition":
            _collect(step.arguments.get("IfSteps", []), into, (name, True))
            _collect(step.arguments.get("ElseSteps", []), into, (name, False))


def _data_dependencies(step: StepDef) -> set[str]:
    scope: dict[str, Any] = dict(step.raw)
    if step.type == "Condition":
        args = dict(step.arguments)
        args.pop("IfSteps", None)
        args.pop("ElseSteps", None)
        scope["Arguments"] = args
    scope.pop("Name", None)
    return references(scope)


def parse_definition(document: dict[str, Any]) -> Definition:
    if not isinstance(document, dict) or "Steps" not in document:
        raise PipelineError("pipeline definition has no 'Steps'")
    steps: dict[str, StepDef] = {}
    _collect(document.get("Steps") or [], steps, None)
    for step in steps.values():
        if step.type not in SUPPORTED_TYPES:
            raise PipelineError(
                f"step {step.name!r} has type {step.type!r}, which the local cloud does not "
                f"run (supported: {', '.join(sorted(SUPPORTED_TYPES))})"
            )
        deps = set(step.raw.get("DependsOn") or []) | _data_dependencies(step)
        if step.branch_of:
            deps.add(step.branch_of[0])
        missing = sorted(dep for dep in deps if dep not in steps)
        if missing:
            raise PipelineError(f"step {step.name!r} refers to unknown step(s) {missing}")
        deps.discard(step.name)
        step.depends_on = deps
    definition = Definition(parameters=list(document.get("Parameters") or []), steps=steps)
    definition.order()
    return definition
