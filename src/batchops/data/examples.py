"""The shipped example datasets: their CSVs in the article's headerless layout.

``examples/datasets/<name>/dataset.yaml`` is each example's spec; this module writes its
three files. The classification examples are real data that scikit-learn carries inside
its package (read from the installed files, no network):

* ``breast-cancer`` — Wisconsin diagnostic breast cancer (569 tumours, 30 measurements of
  cell nuclei; binary: malignant is the positive class);
* ``wine`` — chemical analysis of 178 Italian wines from three cultivars (13 measurements;
  multiclass);
* ``abalone`` — the seed article's dataset, drawn by the calibrated generator (the real
  data is not shipped by any installed package).

Rows are shuffled with a seed and split: ``training-data.csv`` gets ``1 - inference``
of them, the rest become the batch (``inference-data.csv`` + ``ground-truth.csv``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from batchops.data.schema import Layout
from batchops.data.spec import DatasetSpec, examples_dir, load_spec
from batchops.errors import ConfigError
from batchops.fs import atomic_write_text


@dataclass(frozen=True)
class Example:
    name: str
    description: str
    load: Callable[[], tuple[list[str], np.ndarray, list[str]]] | None  #: None: generated

    @property
    def spec_path(self) -> Path:
        return examples_dir() / self.name / "dataset.yaml"

    def spec(self) -> DatasetSpec:
        return load_spec(self.spec_path)


def snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _breast_cancer() -> tuple[list[str], np.ndarray, list[str]]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    labels = [str(data.target_names[t]) for t in data.target]
    return [snake(n) for n in data.feature_names], np.asarray(data.data), labels


def _wine() -> tuple[list[str], np.ndarray, list[str]]:
    from sklearn.datasets import load_wine

    data = load_wine()
    labels = [f"cultivar_{int(t) + 1}" for t in data.target]
    return [snake(n) for n in data.feature_names], np.asarray(data.data), labels


EXAMPLES: dict[str, Example] = {
    e.name: e
    for e in (
        Example("abalone", "regression: rings from sex and 7 measurements (generated)", None),
        Example(
            "breast-cancer",
            "binary: malignant or benign tumour (scikit-learn, real)",
            _breast_cancer,
        ),
        Example("wine", "multiclass: the cultivar of a wine (scikit-learn, real)", _wine),
    )
}


def example(name: str) -> Example:
    if name not in EXAMPLES:
        raise ConfigError(f"unknown example {name!r}; expected one of {', '.join(EXAMPLES)}")
    return EXAMPLES[name]


def _fmt(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def write_example(
    name: str, out: Path, *, seed: int = 0, inference: float = 0.3
) -> dict[Layout, tuple[Path, int]]:
    """Write the example's three files into ``out``; returns each file and its rows."""
    chosen = example(name)
    spec = chosen.spec()
    if not 0 < inference < 1:
        raise ConfigError(f"--inference must be a fraction in (0, 1), got {inference}")
    if chosen.load is None:
        from batchops.data.generate import generate

        made = generate(out, rows=3000, inference_rows=500, seed=seed, spec=spec)
        return {layout: (path, made.rows[layout]) for layout, path in made.files.items()}
    names, values, labels = chosen.load()
    if tuple(names) != spec.feature_names:
        raise ConfigError(
            f"{spec.path}: features do not match the {name} data "
            f"(expected {', '.join(names[:4])}..., {len(names)} columns)"
        )
    order = np.random.default_rng(seed).permutation(len(labels))
    cut = len(order) - max(1, round(len(order) * inference))
    rows = [[_fmt(v) for v in values[i]] for i in order]
    targets = [labels[i] for i in order]
    content = {
        Layout.TRAINING: [[*r, t] for r, t in zip(rows[:cut], targets[:cut], strict=True)],
        Layout.INFERENCE: rows[cut:],
        Layout.GROUND_TRUTH: [[t] for t in targets[cut:]],
    }
    written = {}
    for layout, lines in content.items():
        path = out / layout.filename
        atomic_write_text(path, "".join(",".join(line) + "\n" for line in lines))
        written[layout] = (path, len(lines))
    return written
