"""Evaluate step (processing container): regression metrics of the model on the test split.

Writes ``evaluation.json`` in the layout SageMaker's model registry displays
(``regression_metrics.<name>.value``) — the pipeline reads RMSE from it through a
PropertyFile and registers it as the version's model-quality statistics.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
from pathlib import Path

import numpy as np
import xgboost as xgb

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, dict[str, float]]:
    errors = predicted - actual
    mse = float(np.mean(errors**2))
    total = float(np.sum((actual - actual.mean()) ** 2))
    r2 = 1.0 - float(np.sum(errors**2)) / total if total > 0 else 0.0
    return {
        "mse": {"value": mse, "standard_deviation": float(np.std(errors**2))},
        "rmse": {"value": float(np.sqrt(mse)), "standard_deviation": float(np.std(errors))},
        "mae": {
            "value": float(np.mean(np.abs(errors))),
            "standard_deviation": float(np.std(np.abs(errors))),
        },
        "r2": {"value": r2, "standard_deviation": 0.0},
    }


def safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    """The archive's files and folders, refusing links and paths that leave the folder.

    ``extractall(filter="data")`` does this on Python 3.12 (3.8.17+ as a backport), but the
    XGBoost 1.7-1 image runs 3.8.13, so the check is written out.
    """
    members = tar.getmembers()
    for member in members:
        parts = Path(member.name).parts
        if member.name.startswith("/") or ".." in parts or not (member.isfile() or member.isdir()):
            print(f"{archive}: refusing member {member.name!r}", file=sys.stderr)
            sys.exit(1)
    return members


def main() -> None:
    model_dir = BASE / "model"
    archive = model_dir / "model.tar.gz"
    if not archive.is_file():
        print(f"no model.tar.gz in {model_dir}", file=sys.stderr)
        sys.exit(1)
    with tarfile.open(archive) as tar:
        tar.extractall(model_dir, members=safe_members(tar, archive))
    booster = xgb.Booster()
    booster.load_model(str(model_dir / "xgboost-model.json"))
    files = sorted((BASE / "test").rglob("*.csv"))
    data = np.vstack([np.loadtxt(f, delimiter=",", ndmin=2) for f in files])
    predicted = booster.predict(xgb.DMatrix(data[:, 1:]))
    report = {"regression_metrics": metrics(data[:, 0], predicted), "test_rows": len(data)}
    out = BASE / "evaluation"
    out.mkdir(parents=True, exist_ok=True)
    (out / "evaluation.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report["regression_metrics"]))


if __name__ == "__main__":
    main()
