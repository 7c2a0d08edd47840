"""End to end: `batchops demo` on generated data, checked against the issue's criteria."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_tells_the_whole_story(
    tmp_path: Path, repo_root: Path, lifecycle_story: Any
) -> None:
    env = {**os.environ, "BATCHOPS_BUILD_DIR": str(repo_root / ".batchops/build")}
    env.pop("BATCHOPS_LOCAL_AUTHORIZATION", None)  # the default: permissions checked as IAM does
    tracked = {p.name: p.read_bytes() for p in (repo_root / "model-deploy/environments").iterdir()}
    done = subprocess.run(
        [sys.executable, "-m", "batchops", "demo", "--out", str(tmp_path / "demo")],
        cwd=repo_root,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    # local deployments are recorded under the local cloud's state, never in the checkout
    after = {p.name: p.read_bytes() for p in (repo_root / "model-deploy/environments").iterdir()}
    assert after == tracked, "a local deploy rewrote model-deploy/environments/"
    local_record = tmp_path / "demo/local-cloud/environments/production.yaml"
    assert "current:" in local_record.read_text()
    summary = json.loads((tmp_path / "demo/summary.json").read_text())
    # every CI job, Lambda and step acted as its role, under the policies Terraform gives it
    assert summary["authorization"] == "enforced"
    records = json.loads((tmp_path / "demo/records.json").read_text())
    lifecycle_story(summary, records, done.stdout)
    versions = {v["source"]: v for v in summary["model_versions"]}
    assert versions["training"]["value"] == pytest.approx(
        versions["training"]["rmse"] ** 2, rel=1e-3
    )
    assert summary["dataset"]["name"] == "abalone" and summary["dataset"]["metric"] == "mse"
    runs = summary["inference_runs"]
    # the default engine: a Processing step; drift warns, clean batches are clean
    assert {r["data_quality_job"] for r in runs} == {"ProcessingJob"}
    qualities = [r["model_quality"] for r in runs if r["model_quality"]]
    assert {tuple(sorted(q)) for q in qualities} == {("metric", "passed", "threshold", "value")}
    # the summary agrees with the records the report draws (read from the local cloud)
    assert summary["notifications"] == len(records["notifications"])
    inference = [e["arn"] for e in records["executions"] if e["pipeline"] == "batchops-inference"]
    assert sorted(inference) == sorted(r["execution"] for r in runs)
    # the image has no polars: each data-quality job used the wheels it ships, unpacked once
    # per content in the local cloud's cache (filled by the first job of a fresh checkout)
    logs = sorted((tmp_path / "demo/local-cloud/executions").glob("*/*DataQuality.log"))
    assert len(logs) == 5, logs  # 2 baselines (training, HPO), 3 checks
    used = [line for p in logs for line in p.read_text().splitlines() if "with polars" in line]
    assert len(used) == 5 and all("from the shipped wheels" in line for line in used)
    assert all(" reused)" in line or " filled)" in line for line in used), used
    assert summary["timings_s"]["total"] == pytest.approx(
        sum(v for k, v in summary["timings_s"].items() if k[0].isdigit() and k[0] != "0"), abs=0.05
    )
    html = (tmp_path / "demo/report.html").read_text()
    assert "<script src=" not in html
    for chart in ('id="timeline"', 'id="gantt"', 'id="dag-0"', 'id="drift-0"', 'id="deployments"'):
        assert chart in html
