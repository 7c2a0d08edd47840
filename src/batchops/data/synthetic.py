"""Seeded synthetic rows for a dataset spec: a calibrated Abalone model and a generic one.

The project ships no data set fetched from elsewhere, so the demo and the tests draw rows:

* ``generator: abalone`` — animals from a small biological model calibrated on the
  published summary of the UCI Abalone data (Nash et al., 1994): sex shares M 37% / F 31% /
  I 32%; age (rings) by sex; shell length from a von Bertalanffy growth curve with
  individual asymptotes; diameter and height proportional to length; weights allometric in
  length (~L^3) with the shell share growing with age. A gradient-boosted model reaches
  RMSE ~2.1-2.3 on it, as on the real data.
* ``generator: generic`` — any spec: three latent factors per row drive every column, so
  the features are correlated and the target is learnable but noisy. Numeric columns
  respect the spec's ``min``/``max``/``integer``; categorical ones take the spec's
  ``categories`` (or ``a``, ``b``, ``c``); a classification target takes its labels
  (binary: about 40% positives; multiclass: every class present). The *structure* (which
  factor drives which column) is seeded by the spec's columns, the rows by ``seed``, so
  the same seed always gives the same bytes and training and inference batches share one
  world.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np

from batchops.data.spec_model import Column, DatasetSpec
from batchops.errors import ConfigError, DataError

ABALONE_COLUMNS = (
    "sex",
    "length",
    "diameter",
    "height",
    "whole_weight",
    "shucked_weight",
    "viscera_weight",
    "shell_weight",
    "rings",
)
_SEX_SHARE = {"M": 0.366, "F": 0.313, "I": 0.321}
# mean, std of rings by sex (real data: I 7.9/2.5, M 10.7/3.0, F 11.1/3.1)
_RINGS = {"M": (10.7, 3.0), "F": (11.1, 3.1), "I": (7.9, 2.5)}
# asymptotic shell length (m/100) by sex
_L_INF = {"M": 0.70, "F": 0.71, "I": 0.68}
_FACTORS = 3


def sample(spec: DatasetSpec, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``rows`` rows of every column of ``spec`` (text arrays for categoricals)."""
    if rows < 1:
        raise DataError(f"--rows must be at least 1, got {rows}")
    if spec.generator == "abalone":
        if spec.columns != ABALONE_COLUMNS:
            raise ConfigError(
                f"{spec.path}: generator: abalone draws the columns "
                f"{', '.join(ABALONE_COLUMNS)}; this spec has {', '.join(spec.columns)}"
            )
        return sample_abalone(rows, rng)
    return sample_generic(spec, rows, rng)


def sample_abalone(rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw ``rows`` animals; returns column arrays (sex as str, the rest float)."""
    sexes = list(_SEX_SHARE)
    code = rng.choice(len(sexes), size=rows, p=np.array(list(_SEX_SHARE.values())))
    mean = np.array([_RINGS[s][0] for s in sexes])[code]
    std = np.array([_RINGS[s][1] for s in sexes])[code]
    shape = (mean / std) ** 2
    rings = np.clip(np.round(rng.gamma(shape, mean / shape)), 1, 29)

    l_inf = np.array([_L_INF[s] for s in sexes])[code] * np.exp(rng.normal(0, 0.08, rows))
    rate = 0.16 * np.exp(rng.normal(0, 0.30, rows))
    # size follows the animal's biological age, which rings only estimate
    bio_age = rings * np.exp(rng.normal(0, 0.18, rows))
    growth = 1 - np.exp(-rate * (bio_age - 0.5))
    length = np.clip(l_inf * growth * np.exp(rng.normal(0, 0.06, rows)), 0.075, 0.815)
    diameter = np.clip(0.78 * length * np.exp(rng.normal(0, 0.035, rows)), 0.055, 0.65)
    height = np.clip(0.265 * length * np.exp(rng.normal(0, 0.09, rows)), 0.0, 1.13)
    whole = np.clip(4.7 * length**2.9 * np.exp(rng.normal(0, 0.11, rows)), 0.002, 2.83)
    age_share = np.clip((bio_age - 9.0) / 20.0, -0.3, 0.6)
    shucked = whole * 0.43 * (1 - 0.35 * age_share) * np.exp(rng.normal(0, 0.08, rows))
    viscera = whole * 0.215 * np.exp(rng.normal(0, 0.1, rows))
    shell = whole * 0.285 * (1 + 0.6 * age_share) * np.exp(rng.normal(0, 0.08, rows))
    return {
        "sex": np.array(sexes)[code],
        "length": length,
        "diameter": diameter,
        "height": height,
        "whole_weight": whole,
        "shucked_weight": shucked,
        "viscera_weight": viscera,
        "shell_weight": shell,
        "rings": rings,
    }


def default_categories(spec: DatasetSpec, column: Column) -> tuple[str, ...]:
    """The values the generator writes for a categorical column the spec does not list."""
    if column.categories is not None:
        return column.categories
    if column is not spec.target:
        return ("a", "b", "c")
    if spec.problem_type == "binary_classification":
        positive = str(spec.positive_label)
        other = {"1": "0", "0": "1", "true": "false", "yes": "no"}.get(positive.lower())
        return (other or f"not_{positive}", positive)
    return ("class_1", "class_2", "class_3")


def _structure_seed(spec: DatasetSpec) -> int:
    text = json.dumps([spec.problem_type, [c.document() for c in (*spec.features, spec.target)]])
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)


def _numeric(column: Column, u: np.ndarray, structure: np.random.Generator) -> np.ndarray:
    """A standardised signal mapped onto the column's range."""
    low, high = column.min, column.max
    if low is not None and high is not None:
        return low + (high - low) / (1 + np.exp(-u))
    spread = np.exp(0.35 * u + structure.normal(0, 0.4))
    if low is not None:
        return low + spread
    if high is not None:
        return high - spread
    return float(np.round(structure.normal(0, 20), 1)) + 3.0 * u


def sample_generic(spec: DatasetSpec, rows: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    structure = np.random.default_rng(_structure_seed(spec))
    latent = rng.normal(size=(rows, _FACTORS))
    columns: dict[str, np.ndarray] = {}
    signal = np.zeros(rows)
    for column in spec.features:
        if column.categorical:
            values = default_categories(spec, column)
            weights = structure.normal(size=(_FACTORS, len(values)))
            bias = structure.normal(0, 0.5, len(values))
            code = np.argmax(latent @ weights + bias + rng.gumbel(size=(rows, len(values))), 1)
            columns[column.name] = np.array(values)[code]
            signal += structure.normal(0, 0.6, len(values))[code]
        else:
            weights = structure.normal(size=_FACTORS)
            u = latent @ weights / np.linalg.norm(weights) * 0.9 + rng.normal(0, 0.45, rows)
            columns[column.name] = _numeric(column, u, structure)
    target = spec.target
    direction = structure.normal(size=_FACTORS)
    score = latent @ direction / np.linalg.norm(direction) + 0.5 * signal
    if spec.problem_type == "regression":
        u = (score + rng.normal(0, 0.5, rows)) / max(float(np.std(score)), 1e-9)
        columns[target.name] = _numeric(target, u, structure)
    elif spec.problem_type == "binary_classification":
        negative, positive = default_categories(spec, target)[:2]
        if target.categories is not None:  # the listed order need not put the positive last
            negative = next(c for c in target.categories if c != spec.positive_label)
            positive = str(spec.positive_label)
        chance = 1 / (1 + np.exp(-2.5 * (score / max(float(np.std(score)), 1e-9) - 0.3)))
        columns[target.name] = np.where(rng.random(rows) < chance, positive, negative)
    else:
        labels = default_categories(spec, target)
        weights = structure.normal(size=(_FACTORS, len(labels)))
        logits = 2.0 * (latent @ weights) + rng.gumbel(size=(rows, len(labels)))
        columns[target.name] = np.array(labels)[np.argmax(logits, 1)]
    return columns
