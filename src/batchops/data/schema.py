"""The dataset layout the seed article fixes (UCI Abalone schema, headerless CSV).

* ``training-data.csv``: 9 columns, the features in their original order and the
  target (``rings``) last;
* ``inference-data.csv``: the 8 feature columns only;
* ``ground-truth.csv``: the target only, one row per inference row.

Model Monitor names headerless columns ``_c0``, ``_c1``...; those names appear in
statistics, constraints and violation reports, so :data:`MONITOR_NAMES` maps them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

SEXES: tuple[str, ...] = ("M", "F", "I")

FEATURES: tuple[str, ...] = (
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
)
TARGET = "rings"
#: The fewest rows the training pipeline accepts (``model-build/steps/preprocess.py``
#: ``MIN_ROWS``; a test keeps the two equal): ``data validate`` checks it, so a file is not
#: accepted here and refused by the pipeline later.
MIN_TRAINING_ROWS = 20
COLUMNS: tuple[str, ...] = (*FEATURES, TARGET)
NUMERIC_FEATURES: tuple[str, ...] = FEATURES[1:]

#: Model Monitor's names for headerless columns, e.g. ``_c3`` is ``height``.
MONITOR_NAMES: dict[str, str] = {f"_c{i}": name for i, name in enumerate(COLUMNS)}


class Layout(str, Enum):
    """Which of the three files of the article's layout a file is."""

    TRAINING = "training"
    INFERENCE = "inference"
    GROUND_TRUTH = "ground-truth"

    @property
    def filename(self) -> str:
        return f"{self.value}-data.csv" if self is not Layout.GROUND_TRUTH else "ground-truth.csv"

    @property
    def columns(self) -> tuple[str, ...]:
        return {
            Layout.TRAINING: COLUMNS,
            Layout.INFERENCE: FEATURES,
            Layout.GROUND_TRUTH: (TARGET,),
        }[self]

    @classmethod
    def from_filename(cls, name: str) -> Layout | None:
        for layout in cls:
            if name.endswith(layout.filename):
                return layout
        return None


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str  # "category", "float" or "int"
    decimals: int = 0


COLUMN_SPECS: dict[str, ColumnSpec] = {
    "sex": ColumnSpec("sex", "category"),
    "length": ColumnSpec("length", "float", 3),
    "diameter": ColumnSpec("diameter", "float", 3),
    "height": ColumnSpec("height", "float", 3),
    "whole_weight": ColumnSpec("whole_weight", "float", 4),
    "shucked_weight": ColumnSpec("shucked_weight", "float", 4),
    "viscera_weight": ColumnSpec("viscera_weight", "float", 4),
    "shell_weight": ColumnSpec("shell_weight", "float", 4),
    "rings": ColumnSpec("rings", "int"),
}


def resolve_column(name: str) -> str:
    """Accept a column's name or its Model Monitor name (``_c3``)."""
    key = name.strip().lower().replace(" ", "_").replace("-", "_")
    if key in COLUMN_SPECS:
        return key
    if key in MONITOR_NAMES:
        return MONITOR_NAMES[key]
    raise ValueError(f"unknown column {name!r}; expected one of {', '.join(COLUMNS)} or _c0.._c8")
