"""Each custom checkov check fails its bad fixture and passes its good one.

checkov lives in its own virtualenv (.venv-checkov, created by `make checkov`) because it pins
old boto3/packaging/networkx; the tests drive it as a subprocess, once for all fixtures.
Fixture resources are named `<check id>_pass` / `<check id>_fail` (lower case).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ROOT / "policies" / "checks"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECK_ID = re.compile(r'id="(CKV_BATCHOPS_\d+)"')


def check_ids() -> dict[str, str]:
    """check id -> file defining it (one check per file)."""
    found: dict[str, str] = {}
    for path in sorted(CHECKS.glob("*.py")):
        for check_id in CHECK_ID.findall(path.read_text(encoding="utf-8")):
            found[check_id] = path.name
    return found


def require_checkov() -> None:
    if not CHECKOV.exists():
        message = f"checkov not installed at {CHECKOV}: run `make checkov`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def run_checkov(*args: str) -> list[dict[str, Any]]:
    """checkov's JSON reports (one per framework) for our checks only."""
    require_checkov()
    command = [str(CHECKOV), *args, "--skip-download", "--compact", "-o", "json"]
    command += ["--external-checks-dir", str(CHECKS), "-c", "CKV_BATCHOPS_*"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode in (0, 1), f"checkov crashed ({done.returncode}): {done.stderr[-2000:]}"
    reports = json.loads(done.stdout)
    return reports if isinstance(reports, list) else [reports]


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], str]:
    """(check id, resource name) -> PASSED/FAILED over the .tf and plan-JSON fixtures."""
    reports = run_checkov(
        "-d", str(FIXTURES / "tf"), "--framework", "terraform", "terraform_plan",
        "-f", str(FIXTURES / "plan" / "tfplan.json"),
    )  # fmt: skip
    found: dict[tuple[str, str], str] = {}
    for report in reports:
        for key in ("passed_checks", "failed_checks"):
            for result in report.get("results", {}).get(key, []):
                name = result["resource"].split(".")[-1]
                found[(result["check_id"], name)] = result["check_result"]["result"]
    return found


def test_there_are_at_least_eight_custom_checks_one_per_file() -> None:
    ids = check_ids()
    assert len(ids) >= 8, ids
    assert len(set(ids.values())) == len(ids), f"one check per file: {ids}"


@pytest.mark.parametrize("check_id", sorted(check_ids()))
def test_check_fails_its_bad_fixture(check_id: str, outcomes: dict[tuple[str, str], str]) -> None:
    assert outcomes.get((check_id, f"{check_id.lower()}_fail")) == "FAILED"


@pytest.mark.parametrize("check_id", sorted(check_ids()))
def test_check_passes_its_good_fixture(check_id: str, outcomes: dict[tuple[str, str], str]) -> None:
    assert outcomes.get((check_id, f"{check_id.lower()}_pass")) == "PASSED"


def test_each_bad_fixture_breaks_only_the_check_it_is_named_for(
    outcomes: dict[tuple[str, str], str],
) -> None:
    stray = [
        (check_id, name)
        for (check_id, name), result in outcomes.items()
        if result == "FAILED" and not name.startswith(f"{check_id.lower()}_")
    ]
    assert stray == []


SAST_SCHEMA = ROOT / "policies" / "schemas" / "gitlab-sast-report-15.json"


def test_the_sast_report_for_the_security_team_is_one_gitlab_ingests(tmp_path: Path) -> None:
    """checkov's GitLab SAST output, with findings (the bad fixtures), against the rules
    GitLab enforces when it ingests a 15.0.x SAST report (policies/schemas/)."""
    import jsonschema

    require_checkov()
    command = [
        str(CHECKOV), "-d", str(FIXTURES / "tf"), "--framework", "terraform",
        "--skip-download", "--quiet", "--external-checks-dir", str(CHECKS),
        "-o", "gitlab_sast", "--output-file-path", str(tmp_path),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads((tmp_path / "results_gitlab_sast.json").read_text())
    assert report["vulnerabilities"], "the bad fixtures must show up as findings"
    schema = json.loads(SAST_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(report), key=lambda e: e.json_path
    )
    assert not errors, [f"{e.json_path}: {e.message}" for e in errors[:5]]
    # and the schema is not vacuous: what GitLab refuses, it refuses too
    broken = {**report, "version": "2.0", "scan": {**report["scan"], "status": "ok"}}
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(broken))) == 2


def test_any_branch_trust_passes_only_on_a_role_marked_read_only(
    outcomes: dict[tuple[str, str], str],
) -> None:
    """The Terraform plan role (merge requests of any branch) is the one declared exception."""
    passing = ("CKV_BATCHOPS_10", "ckv_batchops_10_pass_read_only_any_branch")
    failing = ("CKV_BATCHOPS_10", "ckv_batchops_10_fail_any_branch_not_read_only")
    assert outcomes.get(passing) == "PASSED"
    assert outcomes.get(failing) == "FAILED"
