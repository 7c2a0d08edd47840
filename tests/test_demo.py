"""End to end: `batchops demo` on generated data, checked against the issue's criteria."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_the_demo_tells_the_whole_story(tmp_path: Path, repo_root: Path) -> None:
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
    versions = {v["source"]: v for v in summary["model_versions"]}
    assert set(versions) == {"training", "hpo"}
    assert 1.6 <= versions["training"]["rmse"] <= 2.6
    assert versions["training"]["metric"] == "mse"
    assert versions["training"]["value"] == pytest.approx(
        versions["training"]["rmse"] ** 2, rel=1e-3
    )
    assert summary["dataset"]["name"] == "abalone" and summary["dataset"]["metric"] == "mse"
    assert versions["hpo"]["review_ref"], "the HPO version was approved with a review"
    assert summary["governance"]["hpo_without_review"] == "refused"
    assert summary["governance"]["production_before_staging_run"] == "refused"
    assert summary["gitlab_triggers"] == 2, "one trigger per approval"
    assert summary["notifications"] >= 10
    production = [d["version"] for d in summary["deployments"] if d["env"] == "production"]
    assert len(set(production)) >= 2 and production[-1] == versions["hpo"]["version"]
    runs = summary["inference_runs"]
    assert any(r["data_quality_violations"] for r in runs)
    # the default engine: a Processing step; drift warns, clean batches are clean
    assert {r["data_quality_job"] for r in runs} == {"ProcessingJob"}
    assert all(not r["data_quality_violations"] for r in runs if r["status"] == "Succeeded")
    assert "data quality (CheckDataQuality): WARNING" in done.stdout
    assert "data quality (CheckDataQuality): no violations" in done.stdout
    qualities = [r["model_quality"] for r in runs if r["model_quality"]]
    assert len(qualities) == 3, "every labelled batch has a verdict, the failed one too"
    assert {tuple(sorted(q)) for q in qualities} == {("metric", "passed", "threshold", "value")}
    failed = [q for q in qualities if not q["passed"]]
    assert len(failed) == 1 and failed[0]["metric"] == "mse" and failed[0]["value"] > 10.0
    assert all(q["passed"] and q["value"] < 10.0 for q in qualities if q is not failed[0])
    assert summary["retraining"]["started"] is True
    # the summary agrees with the records the report draws (read from the local cloud)
    records = json.loads((tmp_path / "demo/records.json").read_text())
    assert summary["gitlab_triggers"] == len(records["gitlab_triggers"])
    assert summary["notifications"] == len(records["notifications"])
    pipelines = {(e["env"], e["pipeline"]) for e in records["executions"]}
    assert ("data-science", "batchops-training-hpo") in pipelines
    assert {("staging", "batchops-inference"), ("production", "batchops-inference")} <= pipelines
    inference = [e["arn"] for e in records["executions"] if e["pipeline"] == "batchops-inference"]
    assert sorted(inference) == sorted(r["execution"] for r in runs)
    drifted = {d["feature"] for d in records["drift"] if d["distributions"]}
    violated = {v["feature"] for r in runs for v in r["data_quality_violations"]}
    assert "_c3" in drifted and drifted == violated
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
