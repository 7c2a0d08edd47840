"""tools/ci/terraform_plan_report.py turns ``terraform show -json`` into the summary
GitLab's merge-request Terraform widget reads (``artifacts:reports:terraform``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ci_repo import REPO

SCRIPT = REPO / "tools/ci/terraform_plan_report.py"


def _change(address: str, *actions: str) -> dict:
    return {"address": address, "change": {"actions": list(actions)}}


PLAN = {
    "format_version": "1.2",
    "terraform_version": "1.11.4",
    "resource_changes": [
        _change("aws_kms_key.this", "create"),
        _change("aws_s3_bucket.data", "update"),
        _change("aws_lambda_function.notify", "delete", "create"),
        _change("aws_iam_role.old", "delete"),
        _change("aws_sns_topic.same", "no-op"),
        _change("data.aws_caller_identity.current", "read"),
    ],
}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def test_replacement_counts_as_a_delete_and_a_create(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(PLAN), encoding="utf-8")
    done = run(str(plan))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"create": 2, "update": 1, "delete": 2}


def test_report_is_written_to_the_out_file_without_leftovers(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"format_version": "1.2"}), encoding="utf-8")
    out = tmp_path / "reports" / "plan-report.json"
    done = run(str(plan), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == {"create": 0, "update": 0, "delete": 0}
    assert [p.name for p in out.parent.iterdir()] == ["plan-report.json"]


def test_missing_plan_is_one_clear_line(tmp_path: Path) -> None:
    done = run(str(tmp_path / "nope.json"))
    assert done.returncode == 1
    assert (
        done.stderr
        == f"error: {tmp_path / 'nope.json'}: no such plan file (run terraform show -json first)\n"
    )


def test_binary_plan_cache_instead_of_json_is_rejected(tmp_path: Path) -> None:
    plan = tmp_path / "plan.cache"
    plan.write_bytes(b"PK\x03\x04 not json")
    done = run(str(plan))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: {plan}:1:1: not JSON")
    assert done.stderr.count("\n") == 1


def test_json_that_is_not_a_plan_is_rejected(tmp_path: Path) -> None:
    plan = tmp_path / "state.json"
    plan.write_text('{"version": 4}', encoding="utf-8")
    done = run(str(plan))
    assert done.returncode == 1
    assert "not a 'terraform show -json' plan (no format_version)" in done.stderr
