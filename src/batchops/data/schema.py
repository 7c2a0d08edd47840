"""The article's file layout; which columns each file holds comes from the dataset spec.

* ``training-data.csv``: the spec's features in file order and the target last;
* ``inference-data.csv``: the features only;
* ``ground-truth.csv``: the target only, one row per inference row.

Model Monitor names headerless columns ``_c0``, ``_c1``...; those names appear in
statistics, constraints and violation reports, so :meth:`DatasetSpec.monitor_names`
maps them back (see :mod:`batchops.data.spec`).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from batchops.data.spec import DatasetSpec


class Layout(str, Enum):
    """Which of the three files of the article's layout a file is."""

    TRAINING = "training"
    INFERENCE = "inference"
    GROUND_TRUTH = "ground-truth"

    @property
    def filename(self) -> str:
        return f"{self.value}-data.csv" if self is not Layout.GROUND_TRUTH else "ground-truth.csv"

    def columns(self, spec: DatasetSpec) -> tuple[str, ...]:
        return {
            Layout.TRAINING: spec.columns,
            Layout.INFERENCE: spec.feature_names,
            Layout.GROUND_TRUTH: (spec.target.name,),
        }[self]

    @classmethod
    def from_filename(cls, name: str) -> Layout | None:
        for layout in cls:
            if name.endswith(layout.filename):
                return layout
        return None
