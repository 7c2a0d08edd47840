"""The trigger-variable check the deploy pipeline runs first (issue 16, defect 11)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from batchops.trigger_variables import ACCEPTED, TriggerVariablesError, check_trigger_variables

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "src" / "batchops" / "trigger_variables.py"
VALUE = "s3cr3t-value-never-printed"


def payload(tmp_path: Path, variables: object) -> dict[str, str]:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps({"ref": "main", "id": "7", "variables": variables}))
    return {"TRIGGER_PAYLOAD": str(path)}


def test_a_pipeline_without_a_trigger_has_nothing_to_check() -> None:
    assert check_trigger_variables({}) == []


def test_the_approval_lambdas_variables_are_exactly_the_accepted_ones() -> None:
    """One list: what functions/approval_trigger.py sends is what the job accepts."""
    source = (REPO / "src/batchops/functions/approval_trigger.py").read_text(encoding="utf-8")
    sent = next(
        [key.value for key in node.value.keys if isinstance(key, ast.Constant)]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "variables" for t in node.targets)
        and isinstance(node.value, ast.Dict)
    )
    assert sorted(sent) == sorted(ACCEPTED)


def test_accepted_variables_pass(tmp_path: Path) -> None:
    env = payload(tmp_path, {name: "x" for name in ACCEPTED}) | {"DEPLOY_ENV": "staging"}
    assert check_trigger_variables(env) == sorted(ACCEPTED)


def test_other_variables_are_refused_by_name_without_their_values(tmp_path: Path) -> None:
    env = payload(
        tmp_path, {"MODEL_PACKAGE_ARN": "x", "PYTHONPATH": VALUE, "CI_DEBUG_TRACE": VALUE}
    )
    with pytest.raises(TriggerVariablesError) as caught:
        check_trigger_variables(env)
    message = str(caught.value)
    assert "does not accept: CI_DEBUG_TRACE, PYTHONPATH" in message
    assert VALUE not in message and "\n" not in message


def test_a_trigger_aimed_at_production_is_refused(tmp_path: Path) -> None:
    env = payload(tmp_path, {"DEPLOY_ENV": "production"}) | {"DEPLOY_ENV": "production"}
    with pytest.raises(TriggerVariablesError, match="production is the manual, protected job"):
        check_trigger_variables(env)


@pytest.mark.parametrize(
    ("content", "match"),
    [("{not json", "not the JSON GitLab writes"), ('{"variables": [1]}', "expected a mapping")],
)
def test_an_unreadable_payload_is_one_clear_line(tmp_path: Path, content: str, match: str) -> None:
    path = tmp_path / "payload.json"
    path.write_text(content)
    with pytest.raises(TriggerVariablesError, match=match):
        check_trigger_variables({"TRIGGER_PAYLOAD": str(path)})
    with pytest.raises(TriggerVariablesError, match="cannot be read"):
        check_trigger_variables({"TRIGGER_PAYLOAD": str(tmp_path / "missing")})


def test_the_ci_entry_point_ignores_pythonpath_the_trigger_could_set(tmp_path: Path) -> None:
    """`python3 -I` (as the CI job runs it): a PYTHONPATH planting its own json module does
    not run before, or instead of, the check."""
    planted = tmp_path / "planted"
    planted.mkdir()
    (planted / "json.py").write_text("raise SystemExit('planted code ran')\n")
    env = payload(tmp_path, {"PYTHONPATH": str(planted)}) | {"PYTHONPATH": str(planted)}
    done = subprocess.run(
        [sys.executable, "-I", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stderr
    assert "planted code ran" not in done.stderr
    assert done.stderr.strip() == (
        "error: the pipeline trigger set variable(s) the deploy job does not accept: PYTHONPATH "
        "(accepted: MODEL_PACKAGE_ARN, MODEL_PACKAGE_VERSION, MODEL_PACKAGE_GROUP_NAME, "
        "DEPLOY_ENV; values not shown)"
    )
    ok = subprocess.run(
        [sys.executable, "-I", str(SCRIPT)],
        env=payload(tmp_path, {"MODEL_PACKAGE_ARN": "x"}),
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and ok.stdout == "trigger variables accepted: MODEL_PACKAGE_ARN\n"
