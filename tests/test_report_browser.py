"""The HTML report in headless Chromium: loads, draws its charts, makes a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from batchops.report import write_report

pytestmark = pytest.mark.browser

SUMMARY = {
    "model_versions": [
        {
            "version": 1,
            "source": "training",
            "status": "Approved",
            "rmse": 2.09,
            "review_ref": None,
        },
        {"version": 2, "source": "hpo", "status": "Approved", "rmse": 2.07, "review_ref": "MRC-1"},
    ],
    "deployments": [{"env": "staging", "version": 1, "at": "2026-11-25T10:00:00+00:00"}],
    "inference_runs": [
        {
            "env": "staging",
            "execution": "arn:aws:sagemaker:us-east-1:222222222222:pipeline/p/execution/a1",
            "status": "Succeeded",
            "data_quality_violations": [],
            "model_quality": {"mse": 4.2, "threshold": 10.0, "passed": True},
        },
        {
            "env": "production",
            "execution": "arn:aws:sagemaker:us-east-1:333333333333:pipeline/p/execution/b2",
            "status": "Failed",
            "data_quality_violations": [
                {"feature": "_c3", "check": "baseline_drift_check", "description": "d"}
            ],
            "model_quality": {"mse": 24.4, "threshold": 10.0, "passed": False},
        },
    ],
    "retraining": {"started": True, "reason": "mse", "suppressed_duplicates": 0},
    "gitlab_triggers": 2,
    "notifications": 12,
    "governance": {"hpo_without_review": "refused"},
    "timings_s": {"train": 10.0, "deploy": 5.0, "total": 15.0},
}


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: `make browser-tools` should install it")
        pytest.skip("chromium not installed (make browser-tools installs it where possible)")
    return found


def _run(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-dev-shm-usage",
        "--enable-logging=stderr",
        "--v=0",
    ]
    return subprocess.run(
        [browser, *flags, *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_report_renders_without_console_errors(
    tmp_path: Path, repo_root: Path, report_records: dict
) -> None:
    browser = _chromium()
    page = tmp_path / "report.html"
    write_report(SUMMARY, page, report_records)
    html = page.read_text()
    assert "<script src=" not in html and "http://" not in html and "https://" not in html
    dom = _run(browser, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-500:]
    assert '<svg id="timeline"' in dom.stdout and "<rect" in dom.stdout
    for chart in ("model-quality", "gantt", "dag-0", "drift-0", "drift-1", "deployments"):
        assert f'<svg id="{chart}"' in dom.stdout, chart
    console_errors = [
        line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()
    ]
    assert not console_errors, console_errors
    shot = tmp_path / "report.png"
    taken = _run(browser, f"--screenshot={shot}", "--window-size=1200,1400", page.as_uri())
    assert taken.returncode == 0 and shot.stat().st_size > 10_000
    keep = repo_root / "out" / "test-artifacts"  # for people to look at (gitignored)
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "report.png")
