"""Training step (script mode): XGBoost with early stopping on validation.

SageMaker runs it with the hyperparameters as ``--name value`` arguments and the data
channels in ``SM_CHANNEL_*``. The problem type comes from the dataset spec the preprocess
step put in ``transform.json`` (the ``transform`` channel): ``reg:squarederror`` watched
by RMSE, ``binary:logistic`` by log loss, ``multi:softprob`` (one class per label) by
multiclass log loss. The model folder it leaves behind becomes ``model.tar.gz``:

* ``xgboost-model.json`` — the booster, trimmed to the best iteration;
* ``transform.json`` — the feature transform fitted by the preprocess step, so inference
  applies the very same transform;
* ``dataset.json`` — the dataset spec and the classes in the model's order (what the
  inference pipeline's steps read from the model);
* ``code/inference.py`` — the batch-transform handler (``SAGEMAKER_PROGRAM``).

The last line it prints, ``validation-<eval metric>:<value>`` (``validation-rmse:2.1``),
is the best validation score; the tuning job's metric definition reads it (a regex over
the log, as on SageMaker).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import xgboost as xgb

HERE = Path(__file__).resolve().parent


def load(channel: str) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(os.environ[f"SM_CHANNEL_{channel.upper()}"])
    files = sorted(folder.rglob("*.csv"))
    if not files:
        raise SystemExit(f"channel {channel}: no CSV file in {folder}")
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    return data[:, 1:], data[:, 0]


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--num_round", type=int, default=300)
    parser.add_argument("--early_stopping_rounds", type=int, default=20)
    parser.add_argument("--max_depth", type=int, default=5)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--gamma", type=float, default=0.0)
    parser.add_argument("--min_child_weight", type=float, default=1.0)
    parser.add_argument("--subsample", type=float, default=1.0)
    parser.add_argument("--colsample_bytree", type=float, default=1.0)
    parser.add_argument("--reg_lambda", type=float, default=1.0)
    parser.add_argument("--reg_alpha", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"ignoring unknown hyperparameters: {unknown}", file=sys.stderr)
    return args


def problem(transform: dict[str, Any] | None) -> dict[str, Any]:
    """Objective, evaluation metric and class count of the transform's dataset."""
    if not transform:  # a bare call (benchmarks): the article's regression
        return {"objective": "reg:squarederror", "eval_metric": "rmse"}
    dataset = transform["dataset"]
    found = {"objective": dataset["objective"], "eval_metric": dataset["eval_metric"]}
    if dataset["problem_type"] == "multiclass_classification":
        found["num_class"] = len(transform["classes"])
    return found


def booster_params(
    args: argparse.Namespace, transform: dict[str, Any] | None = None
) -> dict[str, Any]:
    """XGBoost parameters from the script's hyperparameters (None values left out)."""
    params = {
        **problem(transform),
        "max_depth": args.max_depth,
        "eta": args.eta,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "subsample": args.subsample,
        "colsample_bytree": args.colsample_bytree,
        "lambda": args.reg_lambda,
        "alpha": args.reg_alpha,
        "seed": args.seed,
        "nthread": int(os.environ.get("OMP_NUM_THREADS", "0") or 0) or None,
    }
    return {k: v for k, v in params.items() if v is not None}


def fit(
    args: argparse.Namespace,
    train: tuple[np.ndarray, np.ndarray],
    validation: tuple[np.ndarray, np.ndarray],
    verbose_eval: int | bool = 25,
    transform: dict[str, Any] | None = None,
) -> xgb.Booster:
    """Train with early stopping on validation; pure (no files), so benchmarks reuse it."""
    dtrain = xgb.DMatrix(train[0], label=train[1])
    dvalidation = xgb.DMatrix(validation[0], label=validation[1])
    return xgb.train(
        booster_params(args, transform),
        dtrain,
        num_boost_round=args.num_round,
        evals=[(dtrain, "train"), (dvalidation, "validation")],
        early_stopping_rounds=args.early_stopping_rounds,
        verbose_eval=verbose_eval,
    )


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    transform_path = next(Path(os.environ["SM_CHANNEL_TRANSFORM"]).rglob("transform.json"))
    transform = json.loads(transform_path.read_text(encoding="utf-8"))
    booster = fit(args, load("train"), load("validation"), transform=transform)
    params = booster_params(args, transform)
    best = booster[: booster.best_iteration + 1]
    model_dir = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    model_dir.mkdir(parents=True, exist_ok=True)
    best.save_model(str(model_dir / "xgboost-model.json"))
    shutil.copy(transform_path, model_dir / "transform.json")
    dataset = dict(
        transform["dataset"],
        classes=transform["classes"],
        target_distribution=transform.get("target_distribution"),
    )
    (model_dir / "dataset.json").write_text(json.dumps(dataset, indent=2))
    (model_dir / "code").mkdir(exist_ok=True)
    shutil.copy(HERE / "inference.py", model_dir / "code" / "inference.py")
    (model_dir / "training-summary.json").write_text(
        json.dumps(
            {
                "best_iteration": booster.best_iteration,
                "params": params,
                "validation_metric": params["eval_metric"],
                "validation_score": booster.best_score,
            }
        )
    )
    print(f"best iteration {booster.best_iteration}")
    print(f"validation-{params['eval_metric']}:{booster.best_score:.6f}")


if __name__ == "__main__":
    main()
