"""Resolution of the expression language of SageMaker pipeline definitions.

The definition JSON the SDK writes holds, wherever a value can be dynamic:

* ``{"Get": "Parameters.X"}`` — a pipeline parameter (overrides arrive as strings and
  are coerced by the declared type);
* ``{"Get": "Execution.PipelineExecutionId"}`` and the other execution variables;
* ``{"Get": "Steps.S.<path>"}`` — a property of an earlier step, e.g.
  ``ProcessingOutputConfig.Outputs['train'].S3Output.S3Uri``,
  ``ModelArtifacts.S3ModelArtifacts`` or ``TrainingJobSummaries[0].TrainingJobName``;
  a string index into a list selects the element named so (``Outputs['train']``);
* ``{"Std:Join": {"On": "/", "Values": [...]}}``;
* ``{"Std:JsonGet": {"PropertyFile": {"Get": "Steps.E.PropertyFiles.N"}, "Path": "a.b[0]"}}``
  — a value read from a JSON file a processing step wrote.

:func:`references` lists the steps an expression depends on (the graph's edges) and
:class:`Resolver` evaluates expressions once those steps have run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from batchops.errors import PipelineError

_TOKEN = re.compile(r"\.?([A-Za-z_][A-Za-z0-9_:\-]*)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")
_NAME_KEYS = (
    "OutputName",
    "InputName",
    "ChannelName",
    "Name",
    "MetricName",
    "PropertyFileName",
)


@dataclass(frozen=True)
class StepRef:
    step: str
    path: str


def parse_path(path: str) -> list[str | int]:
    """Split ``A.B['x'][0].C`` into ``["A", "B", "x", 0, "C"]``."""
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        match = _TOKEN.match(path, pos)
        if not match or match.end() == pos:
            raise PipelineError(f"cannot parse property path {path!r} at {path[pos:]!r}")
        name, index, single, double = match.groups()
        if name is not None:
            parts.append(name)
        elif index is not None:
            parts.append(int(index))
        else:
            parts.append(single if single is not None else double)
        pos = match.end()
    return parts


def walk(document: Any, parts: list[str | int], *, where: str) -> Any:
    """Follow ``parts`` into ``document`` (dicts, lists, lists selected by name)."""
    current = document
    for part in parts:
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                raise PipelineError(f"{where}: index [{part}] is out of range")
            current = current[part]
        elif isinstance(current, dict):
            if part not in current:
                raise PipelineError(f"{where}: no property {part!r} (have {sorted(current)})")
            current = current[part]
        elif isinstance(current, list):
            found = [
                item
                for item in current
                if isinstance(item, dict) and any(item.get(k) == part for k in _NAME_KEYS)
            ]
            if not found:
                raise PipelineError(f"{where}: no element named {part!r}")
            current = found[0]
        else:
            raise PipelineError(f"{where}: cannot read {part!r} of a {type(current).__name__}")
    return current


def _iter_gets(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            yield value["Get"]
            return
        for item in value.values():
            yield from _iter_gets(item)
    elif isinstance(value, list):
        for item in value:
            yield from _iter_gets(item)


def references(value: Any) -> set[str]:
    """Names of the steps whose properties ``value`` reads."""
    steps = set()
    for target in _iter_gets(value):
        if target.startswith("Steps."):
            parts = parse_path(target)
            if len(parts) >= 2:
                steps.add(str(parts[1]))
    return steps


def coerce_parameter(name: str, declared: str, value: Any) -> Any:
    """Coerce an override (a string on the wire) to the declared parameter type."""
    try:
        if declared == "Integer":
            return int(float(value)) if not isinstance(value, bool) else int(value)
        if declared == "Float":
            return float(value)
        if declared == "Boolean":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in ("true", "false"):
                raise ValueError(text)
            return text == "true"
    except (TypeError, ValueError):
        raise PipelineError(
            f"parameter {name}: expected {declared.lower()}, got {value!r}"
        ) from None
    return str(value) if value is not None else None


def stringify(value: Any) -> str:
    """How ``Std:Join`` renders values (numbers without trailing zeros, booleans lower)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    return "" if value is None else str(value)


class Resolver:
    """Evaluates expressions against parameters, execution variables and step properties."""

    def __init__(
        self,
        parameters: Mapping[str, Any],
        execution: Mapping[str, Any],
        properties: Callable[[str], dict[str, Any]],
        read_property_file: Callable[[str, str], Any],
    ) -> None:
        self._parameters = parameters
        self._execution = execution
        self._properties = properties
        self._read_property_file = read_property_file

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Get"} and isinstance(value["Get"], str):
            return self._get(value["Get"])
        if set(value) == {"Std:Join"}:
            spec = value["Std:Join"]
            parts = self.resolve(spec.get("Values", []))
            return str(spec.get("On", "")).join(stringify(part) for part in parts)
        if set(value) == {"Std:JsonGet"}:
            return self._json_get(value["Std:JsonGet"])
        return {key: self.resolve(item) for key, item in value.items()}

    def _get(self, target: str) -> Any:
        parts = parse_path(target)
        head = parts[0]
        if head == "Parameters" and len(parts) == 2:
            if parts[1] not in self._parameters:
                raise PipelineError(f"{target}: the pipeline declares no parameter {parts[1]!r}")
            return self._parameters[str(parts[1])]
        if head == "Execution" and len(parts) == 2:
            if parts[1] not in self._execution:
                raise PipelineError(f"{target}: unknown execution variable")
            return self._execution[str(parts[1])]
        if head == "Steps" and len(parts) >= 3:
            step = str(parts[1])
            if parts[2] == "PropertyFiles":
                raise PipelineError(f"{target}: property files are read through Std:JsonGet")
            return walk(self._properties(step), parts[2:], where=target)
        raise PipelineError(f"cannot resolve {{'Get': {target!r}}}")

    def _json_get(self, spec: Mapping[str, Any]) -> Any:
        source = spec.get("PropertyFile")
        path = str(spec.get("Path", ""))
        if isinstance(source, dict) and "Get" in source:
            parts = parse_path(source["Get"])
            if len(parts) != 4 or parts[0] != "Steps" or parts[2] != "PropertyFiles":
                raise PipelineError(f"Std:JsonGet: bad property file reference {source['Get']!r}")
            document = self._read_property_file(str(parts[1]), str(parts[3]))
        elif isinstance(source, str):
            raise PipelineError("Std:JsonGet on a property file by name is not supported")
        else:
            raise PipelineError(f"Std:JsonGet: bad PropertyFile {source!r}")
        return walk(document, parse_path(path), where=f"Std:JsonGet {path}")


def load_json_document(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{where}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
