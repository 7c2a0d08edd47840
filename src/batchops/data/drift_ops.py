"""Drift operations (``data generate --drift``, a spec's ``drift`` line), parsed.

Apart from the generator so that the spec's validation (which checks a ``drift`` line)
needs no generator: ``height*1.6``, ``rings+4``, ``COLUMN:missing|invalid|flip|unseen=F``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from batchops.data.spec_model import DatasetSpec
from batchops.errors import DataError


@dataclass(frozen=True)
class DriftOp:
    column: str
    op: str  # "*", "+", "missing", "invalid", "flip", "unseen"
    value: float

    def describe(self) -> str:
        if self.op in ("*", "+"):
            return f"{self.column}{self.op}{self.value:g}"
        return f"{self.column}:{self.op}={self.value:g}"


_OP = re.compile(
    r"^\s*(?P<col>[A-Za-z_][A-Za-z0-9_. -]*?)\s*"
    r"(?:(?P<arith>[*+])\s*(?P<num>[-+]?\d*\.?\d+)"
    r"|:(?P<kind>missing|invalid|flip|unseen)=(?P<frac>\d*\.?\d+))\s*$"
)


def parse_drift(text: str | None, spec: DatasetSpec) -> tuple[DriftOp, ...]:
    """Parse ``"height*1.6,rings+4"`` against ``spec``; one clear error per bad item."""
    if not text:
        return ()
    ops = []
    for item in text.split(","):
        match = _OP.match(item)
        where = f"--drift item {item.strip()!r}"
        if not match:
            raise DataError(
                f"{where}: expected COLUMN*FACTOR, COLUMN+SHIFT or COLUMN:KIND=FRACTION "
                "(KIND: missing, invalid, flip, unseen)"
            )
        try:
            column = spec.column(spec.resolve_column(match["col"]))
        except ValueError as exc:
            raise DataError(f"{where}: {exc}") from None
        if match["arith"]:
            if column.categorical:
                raise DataError(f"{where}: {column.name} is categorical (use :flip or :unseen)")
            ops.append(DriftOp(column.name, match["arith"], float(match["num"])))
            continue
        kind, fraction = match["kind"], float(match["frac"])
        if not 0 <= fraction <= 1:
            raise DataError(f"{where}: fraction must be in [0, 1]")
        if kind in ("flip", "unseen") and not column.categorical:
            raise DataError(
                f"{where}: {kind} applies to categorical columns; {column.name} is numeric"
            )
        if kind == "unseen" and column is spec.target:
            raise DataError(f"{where}: the target's labels drift with :flip")
        ops.append(DriftOp(column.name, kind, fraction))
    return tuple(ops)
