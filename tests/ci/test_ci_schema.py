"""GitLab's CI schema (bundled with check-jsonschema, offline) accepts every CI file, and
names the file and the key when a child file has a misspelled key or a wrong type."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ci_repo import CI_FILES, REPO

CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(CHECK_JSONSCHEMA),
            "--builtin-schema",
            "vendor.gitlab-ci",
            "--data-transform",
            "gitlab-ci",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_ci_file_validates_against_gitlab_schema() -> None:
    assert len(CI_FILES) == 5, [p.name for p in CI_FILES]
    done = validate(*CI_FILES)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


BAD_CHILDREN = {
    "misspelled-key": (
        "unit-tests:\n  stage: test\n  scirpt:\n    - make test-python\n",
        "$['unit-tests']: Additional properties are not allowed ('scirpt' was unexpected)",
    ),
    "wrong-type": (
        "deploy:\n  script: [batchops deploy --env staging]\n  interruptible: 'yes'\n",
        "$.deploy.interruptible: 'yes' is not of type 'boolean'",
    ),
    "misspelled-when": (
        "deploy:\n  script: [make build]\n  when: manul\n",
        "$.deploy.when: 'manul' is not one of",
    ),
    "id-token-without-audience": (
        "deploy:\n  script: [make build]\n  id_tokens:\n    AWS_ID_TOKEN:\n      audience: x\n",
        "$.deploy.id_tokens.AWS_ID_TOKEN",
    ),
    "trigger-misspelled-strategy": (
        "child:\n  trigger:\n    include: .gitlab/ci/model-build.yml\n    strategy: depends\n",
        "$.child.trigger",
    ),
}


@pytest.mark.parametrize(("text", "expected"), BAD_CHILDREN.values(), ids=BAD_CHILDREN.keys())
def test_bad_child_file_fails_with_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    child = tmp_path / ".gitlab" / "ci" / "broken.yml"
    child.parent.mkdir(parents=True)
    child.write_text(text, encoding="utf-8")
    done = validate(child)
    assert done.returncode == 1
    assert f"{child}::{expected}" in done.stdout, done.stdout


def test_make_validates_the_ci_files(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "-C", str(REPO), "--no-print-directory", "-n", "ci-validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    command = done.stdout.strip().splitlines()[-1]
    assert "--builtin-schema vendor.gitlab-ci --data-transform gitlab-ci" in command
    for path in CI_FILES:
        assert str(path.relative_to(REPO)) in command
