"""The dataset spec: one YAML file saying what the data is and how a model is judged.

Everything that depends on the data reads it — validation, the generator, both teams'
pipelines (preprocessing, the XGBoost objective, the tuning objective, the training gate,
the inference handler's output, model quality), the demo and the report — so a new table
takes one new file, not edits across the code::

    name: abalone
    problem_type: regression     # regression | binary_classification | multiclass_classification
    header: false                     # the article's layout: headerless CSV
    features:                         # in file order
      - {name: sex, type: categorical, categories: [M, F, I]}
      - {name: length, type: numeric, min: 0}
    target: {name: rings, type: numeric, integer: true, min: 0}
    positive_label: null              # binary classification: the positive class
    quality: {metric: mse, threshold: 10.0}

The files keep the article's layout: ``training-data.csv`` holds the features in spec
order and the target last, ``inference-data.csv`` the features, ``ground-truth.csv`` the
target. Optional keys: ``categories`` (a categorical column's allowed values; for a
classification target, its labels as the files write them), ``min``/``max``/``integer``
(numeric checks), ``decimals`` (how the generator rounds), ``drift`` (the drifted batch
the demo makes, in ``data generate --drift`` syntax) and ``generator`` (``generic``, or
``abalone`` for the calibrated Abalone model).

A bad spec is one :class:`~batchops.errors.ConfigError` line naming the file and the key.
The pipelines' step scripts cannot import batchops (they run in SageMaker's framework
images), so :meth:`DatasetSpec.document` is the plain-JSON form they read.
"""

from __future__ import annotations

import os
from pathlib import Path

from batchops.data.spec_loader import parse_spec, read_spec
from batchops.data.spec_model import (
    CLASSIFICATION_TYPES,
    COLUMN_TYPES,
    GENERATORS,
    METRICS,
    OBJECTIVES,
    PROBLEM_TYPES,
    REGRESSION_ONLY,
    Column,
    DatasetSpec,
    Metric,
    Quality,
    normal_name,
)

__all__ = [
    "CLASSIFICATION_TYPES",
    "COLUMN_TYPES",
    "GENERATORS",
    "METRICS",
    "OBJECTIVES",
    "PROBLEM_TYPES",
    "REGRESSION_ONLY",
    "SPEC_ENV",
    "Column",
    "DatasetSpec",
    "Metric",
    "Quality",
    "current_spec",
    "default_spec_path",
    "examples_dir",
    "load_spec",
    "normal_name",
    "parse_spec",
]

#: the environment variable naming the spec every command (and its children) uses
SPEC_ENV = "BATCHOPS_DATASET_SPEC"


def load_spec(path: Path | str) -> DatasetSpec:
    """Read and validate a spec file (one line naming the file and the key when bad)."""
    return read_spec(Path(path))


def examples_dir() -> Path:
    """``examples/datasets`` of the checkout batchops runs from (or is installed from)."""
    from batchops.config import find_config_dir

    return find_config_dir().parent / "examples" / "datasets"


def default_spec_path() -> Path:
    """``BATCHOPS_DATASET_SPEC`` or the Abalone example (the article's dataset)."""
    explicit = os.environ.get(SPEC_ENV)
    return Path(explicit) if explicit else examples_dir() / "abalone" / "dataset.yaml"


def current_spec() -> DatasetSpec:
    """The spec every command and pipeline build of this process uses."""
    return load_spec(default_spec_path())
