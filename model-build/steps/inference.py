"""Batch-transform handler packaged in ``model.tar.gz`` (``code/inference.py``).

Framework containers call ``model_fn`` once, then ``input_fn -> predict_fn -> output_fn``
per mini-batch. Input records are the article's ``inference-data.csv`` rows (sex and seven
measurements, raw); the transform fitted at training time (``transform.json``, saved with
the model) turns them into model features, so the transform is never refitted.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb


def model_fn(model_dir: str) -> dict:
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
    with open(os.path.join(model_dir, "transform.json"), encoding="utf-8") as handle:
        transform = json.load(handle)
    return {"booster": booster, "transform": transform}


Batch = tuple[np.ndarray, np.ndarray]  # (sex labels, measurements as float64)


def input_fn(body: str | bytes, content_type: str = "text/csv") -> Batch:
    """A mini-batch of CSV records as (sex, measurements) arrays, parsed by pandas' C parser
    (pandas is in SageMaker's XGBoost image, so the same script runs there)."""
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    if not text.strip():
        return np.empty(0, dtype=object), np.empty((0, 0))
    try:
        table = pd.read_csv(io.StringIO(text), header=None, dtype={0: str}, engine="c")
        sex = table.iloc[:, 0].to_numpy(dtype=str)
        return sex, table.iloc[:, 1:].to_numpy(dtype=np.float64)
    except (pd.errors.ParserError, ValueError) as exc:
        raise ValueError(
            f"records are not CSV with 8 fields of the expected types: {exc}"
        ) from None


def _batch(rows: Batch | list[list[str]], width: int) -> Batch:
    if isinstance(rows, tuple):
        sex, numeric = rows
        got = numeric.shape[1] + 1 if numeric.ndim == 2 else 0
        if len(sex) and got != width:
            raise ValueError(f"record 1: expected {width} fields, got {got}")
        return rows
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(row)}")
    return np.array([r[0] for r in rows]), np.array([r[1:] for r in rows], dtype=np.float64)


def features(transform: dict, rows: Batch | list[list[str]]) -> np.ndarray:
    """The model's feature matrix: one-hot sex + the scaled measurements (vectorised)."""
    sex, numeric = _batch(rows, len(transform["features"]))
    sex = sex.astype(str)
    if not np.isin(sex, transform["categories"]["sex"]).all():
        sex = np.char.strip(sex)
    onehot = np.stack([sex == c for c in transform["categories"]["sex"]], axis=1)
    bad = np.isnan(numeric).any(axis=1)
    if bad.any():
        raise ValueError(f"record {int(np.argmax(bad)) + 1}: a measurement is missing")
    scaled = (numeric - np.array(transform["mean"])) / np.array(transform["scale"])
    return np.hstack([onehot, scaled]).astype(np.float32)


def predict_fn(rows: Batch | list[list[str]], model: dict) -> np.ndarray:
    if len(rows[0] if isinstance(rows, tuple) else rows) == 0:
        return np.empty(0, dtype=np.float32)
    return model["booster"].inplace_predict(features(model["transform"], rows))


def output_fn(predictions: np.ndarray, accept: str = "text/csv") -> str:
    if len(predictions) == 0:
        return ""
    return "\n".join(map("{:.4f}".format, predictions.tolist())) + "\n"
