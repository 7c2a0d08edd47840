"""Evaluate step (processing container): regression metrics of the model on the test split.

Writes ``evaluation.json``: Model Monitor's model-quality statistics
(``regression_metrics.<name>.value`` and ``standard_deviation``), which SageMaker's model
registry displays — the pipeline reads RMSE from it through a PropertyFile and registers
it as the version's model-quality statistics. The metrics are batchops' one model-quality
implementation (``batchops.monitor.model_quality``), shipped inside this step's code.
"""

from __future__ import annotations

import json
import os
import sys
import tarfile
from pathlib import Path

import numpy as np
import xgboost as xgb

from batchops.errors import BatchopsError
from batchops.monitor.formats import write_json
from batchops.monitor.model_quality import regression_metrics, statistics_document

ROOT = os.environ.get("BATCHOPS_CONTAINER_ROOT", "")
BASE = Path(f"{ROOT}/opt/ml/processing")


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
    report = statistics_document(regression_metrics(predicted, data[:, 0]))
    write_json(BASE / "evaluation" / "evaluation.json", report)
    print(json.dumps(report["regression_metrics"]))


if __name__ == "__main__":
    try:
        main()
    except BatchopsError as exc:  # bad input: one line as the step's FailureReason
        failure = Path(f"{ROOT}/opt/ml/output")
        failure.mkdir(parents=True, exist_ok=True)
        (failure / "failure").write_text(str(exc))
        print(exc, file=sys.stderr)
        sys.exit(1)
