"""Every command a CI job runs must exist: Makefile targets in the real Makefile (read
through ``make -pRrq``), ``batchops`` commands in the real argparse parser
(``batchops.cli.main.build_parser``), Terraform subcommands, and project scripts.

Commands the CI already calls but that another issue is still building on main are listed
in ``PENDING``: each is an expected failure with ``strict=True``, so the day the command
lands the test turns red until it is taken off the list, and a typo in a job can never
hide behind it.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from functools import cache
from typing import Any

import pytest
from ci_repo import CI_FILES, REPO, load
from shell_commands import commands, make_targets_called, with_placeholders

from batchops.cli.main import build_parser
from batchops.localcloud.gitlab.ci_yaml import script_lines

#: Referenced by the CI files, being built on main by other issues (prefix match).
PENDING: tuple[str, ...] = ()
#: Commands a job may run besides the project's own.
SHELL_BUILTINS = frozenset({"echo", "printf", "mkdir", "[", "test", "continue", "true", "cd"})
TERRAFORM_SUBCOMMANDS = frozenset({"fmt", "init", "validate", "plan", "show", "apply", "test"})
PROJECT_COMMANDS = frozenset({"make", "batchops", "terraform", "tflint", "python3"})


@cache
def makefile_targets() -> frozenset[str]:
    """Phony targets of the real Makefile (including mk/*.mk)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "MFLAGS"))}
    database = subprocess.run(
        ["make", "-pRrq", "-C", str(REPO), ":"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout
    targets: set[str] = set()
    for line in database.splitlines():
        if line.startswith(".PHONY:"):
            targets.update(line.split(":", 1)[1].split())
    return frozenset(targets)


def batchops_error(argv: list[str]) -> str | None:
    """None when the real parser accepts ``argv`` as a runnable command, else why not."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            args = build_parser().parse_args(argv)
    except SystemExit:
        lines = stderr.getvalue().strip().splitlines()
        return lines[-1] if lines else "rejected by the parser"
    if not getattr(args, "func", None):
        return "names a command group, not a command"
    return None


def _invocations() -> dict[str, tuple[list[str], list[str]]]:
    """Each distinct command the jobs run -> (its argv, the jobs that run it)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for path in CI_FILES:
        for name, job in load(path).jobs.items():
            for key in ("before_script", "script"):
                for line in script_lines(job, key):
                    for argv in commands(line):
                        if key == "before_script" and argv[0] != "make":
                            continue  # shared plumbing (OIDC, installers) is checked elsewhere
                        entry = found.setdefault(" ".join(argv), (argv, []))
                        entry[1].append(f"{path.name}:{name}")
    return found


INVOCATIONS = _invocations()


def _param(command: str, argv: list[str], jobs: list[str]) -> Any:
    marks = []
    if any(command.startswith(prefix) for prefix in PENDING):
        marks.append(pytest.mark.xfail(strict=True, reason="being built on main (PENDING)"))
    return pytest.param(command, argv, jobs, id=command[:80], marks=marks)


def test_the_jobs_run_the_commands_the_project_promises() -> None:
    everything = "\n".join(INVOCATIONS)
    for expected in (
        "make lint",
        "make test-python",
        "make build",
        "make test-infra",
        "make checkov",
        "batchops pipelines upsert --project model-build --env data-science",
        "batchops pipelines golden-check --project model-build",
        "batchops deploy --env staging",
        "batchops deploy --env production --model-package-arn $MODEL_PACKAGE_ARN",
        "batchops pipelines delete --project model-deploy --env production",
        "terraform -chdir=$TF_ROOT apply",
    ):
        assert expected in everything, expected


@pytest.mark.parametrize(
    ("command", "argv", "jobs"), [_param(c, a, j) for c, (a, j) in INVOCATIONS.items()]
)
def test_job_command_exists(command: str, argv: list[str], jobs: list[str]) -> None:
    program = argv[0]
    where = ", ".join(jobs)
    if program == "make":
        missing = set(make_targets_called(argv)) - makefile_targets()
        assert not missing, f"{where}: make target(s) {sorted(missing)} not in the Makefile"
    elif program == "batchops":
        error = batchops_error(with_placeholders(argv[1:]))
        assert error is None, f"{where}: '{command}': {error}"
    elif program == "terraform":
        subcommand = next(word for word in argv[1:] if not word.startswith("-"))
        assert subcommand in TERRAFORM_SUBCOMMANDS, f"{where}: terraform {subcommand}"
    elif program == "python3":
        script = next(word for word in argv[1:] if not word.startswith("-"))
        assert (REPO / script).is_file(), f"{where}: {script} does not exist"
    else:
        assert program in SHELL_BUILTINS | {"tflint"}, f"{where}: unexpected command {program!r}"


def test_every_job_script_runs_a_project_command() -> None:
    for path in CI_FILES:
        for name, job in load(path).jobs.items():
            if "trigger" in job:
                continue
            programs = {argv[0] for line in script_lines(job) for argv in commands(line)}
            assert programs & PROJECT_COMMANDS, f"{path.name}:{name} runs only {programs}"


def test_pending_list_names_only_commands_the_jobs_use() -> None:
    for prefix in PENDING:
        assert any(c.startswith(prefix) for c in INVOCATIONS), f"{prefix} is no longer used"


def test_the_checker_rejects_a_misspelled_batchops_command() -> None:
    assert batchops_error(["config", "shwo", "--env", "staging"]) is not None
    assert batchops_error(["config", "show", "--env", "staging"]) is None
    assert batchops_error(["config"]) == "names a command group, not a command"


def test_the_checker_sees_every_command_of_a_compound_line() -> None:
    line = (
        'for d in a/ b/; do [ -f "${d}x" ] || continue; '
        'terraform -chdir="$d" init -backend=false >/dev/null 2>&1 && make lint; done'
    )
    programs = [argv[0] for argv in commands(line)]
    assert programs == ["[", "continue", "terraform", "make"]
    assert commands('batchops deploy --env staging ${ARN:+--model-package-arn "$ARN"}') == [
        ["batchops", "deploy", "--env", "staging", "--model-package-arn", "$ARN"],
        ["batchops", "deploy", "--env", "staging"],
    ]


@pytest.mark.parametrize("key", ["training", "hpo"])
def test_start_training_names_a_pipeline_batchops_knows(key: str) -> None:
    from batchops.pipelines.project import find_pipeline

    job = load(REPO / ".gitlab/ci/model-build.yml").jobs["start-training"]
    assert job["variables"]["TRAINING_PIPELINE"] == "training"
    assert 'batchops pipelines start "$TRAINING_PIPELINE" --env data-science' in job["script"]
    _, spec = find_pipeline(key, "data-science")  # raises ConfigError for an unknown key
    assert spec.key == key
