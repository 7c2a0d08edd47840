"""Condition step semantics: the ``Conditions`` list is ANDed; Not/Or/In nest."""

from __future__ import annotations

from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.expressions import Resolver

_COMPARE = {
    "Equals": lambda a, b: a == b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def _comparable(left: Any, right: Any) -> tuple[Any, Any]:
    """Numbers compare as numbers even when one side arrived as text."""
    if (isinstance(left, (int, float)) and not isinstance(left, bool)) or (
        isinstance(right, (int, float)) and not isinstance(right, bool)
    ):
        try:
            return float(left), float(right)
        except (TypeError, ValueError):
            raise PipelineError(f"cannot compare {left!r} with {right!r}") from None
    return left, right


def evaluate(resolver: Resolver, condition: dict[str, Any]) -> bool:
    kind = condition.get("Type")
    if kind in _COMPARE:
        left, right = _comparable(
            resolver.resolve(condition.get("LeftValue")),
            resolver.resolve(condition.get("RightValue")),
        )
        try:
            return bool(_COMPARE[kind](left, right))
        except TypeError:
            raise PipelineError(f"{kind}: cannot compare {left!r} with {right!r}") from None
    if kind == "In":
        value = resolver.resolve(condition.get("QueryValue"))
        return any(
            _comparable(value, resolver.resolve(v))[0] == _comparable(value, resolver.resolve(v))[1]
            for v in condition.get("Values") or []
        )
    if kind == "Not":
        inner = condition.get("Expression") or condition.get("Condition")
        return not evaluate(resolver, inner or {})
    if kind == "Or":
        return any(evaluate(resolver, c) for c in condition.get("Conditions") or [])
    raise PipelineError(f"unsupported condition type {kind!r}")


def evaluate_conditions(resolver: Resolver, conditions: list[dict[str, Any]]) -> bool:
    return all(evaluate(resolver, condition) for condition in conditions)
