"""Batch-transform handler packaged in ``model.tar.gz`` (``code/inference.py``).

Framework containers call ``model_fn`` once, then ``input_fn -> predict_fn -> output_fn``
per mini-batch. Input records are the article's ``inference-data.csv`` rows (sex and seven
measurements, raw); the transform fitted at training time (``transform.json``, saved with
the model) turns them into model features, so the transform is never refitted.
"""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import xgboost as xgb


def model_fn(model_dir: str) -> dict:
    booster = xgb.Booster()
    booster.load_model(os.path.join(model_dir, "xgboost-model.json"))
    with open(os.path.join(model_dir, "transform.json"), encoding="utf-8") as handle:
        transform = json.load(handle)
    return {"booster": booster, "transform": transform}


def input_fn(body: str | bytes, content_type: str = "text/csv") -> list[list[str]]:
    if content_type != "text/csv":
        raise ValueError(f"unsupported content type {content_type!r}; send text/csv")
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return [row for row in csv.reader(io.StringIO(text)) if row]


def features(transform: dict, rows: list[list[str]]) -> np.ndarray:
    width = len(transform["features"])
    categories = transform["categories"]["sex"]
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise ValueError(f"record {number}: expected {width} fields, got {len(row)}")
    onehot = np.array([[1.0 if r[0].strip() == c else 0.0 for c in categories] for r in rows])
    numeric = np.array([[float(v) for v in r[1:]] for r in rows])
    return np.hstack([onehot, (numeric - transform["mean"]) / np.array(transform["scale"])])


def predict_fn(rows: list[list[str]], model: dict) -> np.ndarray:
    matrix = xgb.DMatrix(features(model["transform"], rows))
    return model["booster"].predict(matrix)


def output_fn(predictions: np.ndarray, accept: str = "text/csv") -> str:
    return "".join(f"{value:.4f}\n" for value in predictions)
