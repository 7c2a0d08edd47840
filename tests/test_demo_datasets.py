"""End to end: `batchops demo --dataset SPEC --data-dir DIR` for data that is not Abalone.

* the two shipped examples (real data scikit-learn carries: breast cancer, binary; wine,
  multiclass), their CSVs written by `batchops data example`;
* a user's own table, as a new user would bring it: only a spec and three headerless CSVs
  of a real dataset with categorical features and missing values (the restaurant tips
  plotly carries), and a category in the batch that training never saw.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow


def _demo(repo_root: Path, out: Path, spec: Path, data: Path) -> dict:
    env = {**os.environ, "BATCHOPS_BUILD_DIR": str(repo_root / ".batchops/build")}
    command = [sys.executable, "-m", "batchops", "demo", "--out", str(out)]
    done = subprocess.run(
        [*command, "--dataset", str(spec), "--data-dir", str(data)],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((out / "summary.json").read_text())


def _the_story(summary: dict, metric: str) -> list[dict]:
    """The lifecycle's story with the problem type's metric; returns the verdicts."""
    versions = {v["source"]: v for v in summary["model_versions"]}
    assert set(versions) == {"training", "hpo"}
    assert all(v["metric"] == metric and v["value"] is not None for v in versions.values())
    assert summary["governance"] == {
        "hpo_without_review": "refused",
        "production_before_staging_run": "refused",
    }
    runs = summary["inference_runs"]
    verdicts = [r["model_quality"] for r in runs if r["model_quality"]]
    assert [v["passed"] for v in verdicts] == [True, False, True], verdicts
    assert all(v["metric"] == metric for v in verdicts)
    assert any(r["data_quality_violations"] for r in runs)
    assert summary["retraining"]["started"] is True
    production = [d["version"] for d in summary["deployments"] if d["env"] == "production"]
    assert production[-1] == versions["hpo"]["version"]
    return verdicts


@pytest.mark.parametrize(
    ("example", "metric", "higher"),
    [("breast-cancer", "f1", True), ("wine", "f1_macro", True)],
)
def test_a_shipped_classification_example_runs_end_to_end(
    repo_root: Path, tmp_path: Path, example: str, metric: str, higher: bool
) -> None:
    data = tmp_path / "data"
    written = subprocess.run(
        [sys.executable, "-m", "batchops", "data", "example", example, "--out", str(data)],
        cwd=repo_root, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    spec = repo_root / "examples/datasets" / example / "dataset.yaml"
    summary = _demo(repo_root, tmp_path / "demo", spec, data)
    assert summary["dataset"]["problem_type"].endswith("classification")
    verdicts = _the_story(summary, metric)
    passed, failed = verdicts[0], verdicts[1]
    assert passed["value"] >= passed["threshold"] > failed["value"], "higher is better"
    html = (tmp_path / "demo/report.html").read_text()
    assert metric in html and 'id="model-quality"' in html


def _tips() -> list[dict[str, str]]:
    """The restaurant tips (Bryant & Smith, 1995) that plotly carries in its package."""
    raw = (resources.files("plotly") / "package_data/datasets/tips.csv.gz").read_bytes()
    return list(csv.DictReader(io.StringIO(gzip.decompress(raw).decode())))


TIPS_SPEC = """\
# my own table: what a waiter is tipped, from the bill and the party
name: tips
problem_type: regression
header: false
features:
  - {name: total_bill, type: numeric, min: 0}
  - {name: sex, type: categorical}
  - {name: smoker, type: categorical, categories: ["Yes", "No"]}
  - {name: day, type: categorical}
  - {name: time, type: categorical}
  - {name: size, type: numeric, min: 1, integer: true}
target: {name: tip, type: numeric, min: 0}
quality: {metric: rmse, threshold: 1.6}
"""


def test_a_users_own_table_with_categories_and_missing_values_runs_end_to_end(
    repo_root: Path, tmp_path: Path
) -> None:
    rows = _tips()
    rng = np.random.default_rng(3)
    order = rng.permutation(len(rows))
    columns = ["total_bill", "sex", "smoker", "day", "time", "size"]

    def line(row: dict[str, str]) -> list[str]:
        values = [row[c] for c in columns]
        for index in (1, 3, 5):  # real files have holes: sex, day, size
            if rng.random() < 0.08:
                values[index] = ""
        return values

    data = tmp_path / "data"
    data.mkdir()
    cut = 180
    with (data / "training-data.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([*line(rows[i]), rows[i]["tip"]] for i in order[:cut])
    batch = [line(rows[i]) for i in order[cut:]]
    batch[0][3] = "Mon"  # a day training never saw
    with (data / "inference-data.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(batch)
    with (data / "ground-truth.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([rows[i]["tip"]] for i in order[cut:])
    spec = tmp_path / "tips.yaml"
    spec.write_text(TIPS_SPEC)
    summary = _demo(repo_root, tmp_path / "demo", spec, data)
    verdicts = _the_story(summary, "rmse")
    assert verdicts[0]["value"] <= 1.6 < verdicts[1]["value"], "lower is better"
    first = summary["inference_runs"][0]
    assert first["unseen_categories"] == {"day": {"Mon": 1}}
    assert set(first["missing_values"]) <= {"sex", "day", "size"} and first["missing_values"]
    html = (tmp_path / "demo/report.html").read_text()
    assert "tips" in html and "day: &#x27;Mon&#x27; x1" in html
