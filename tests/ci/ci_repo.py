"""Where the CI files of this repository are, and how tests load them expanded."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from batchops.localcloud.gitlab.ci_yaml import Pipeline, load_pipeline

REPO = Path(__file__).resolve().parents[2]
PARENT = REPO / ".gitlab-ci.yml"
CHILDREN = {
    "model-build": REPO / ".gitlab/ci/model-build.yml",
    "model-deploy": REPO / ".gitlab/ci/model-deploy.yml",
    "infrastructure": REPO / ".gitlab/ci/infrastructure.yml",
}
CI_FILES = [PARENT, *sorted((REPO / ".gitlab/ci").glob("*.yml"))]
GITLAB_CI_LOCAL = REPO / "tools/ci/node_modules/.bin/gitlab-ci-local"


def load(path: Path) -> Pipeline:
    """``path`` after includes, ``!reference`` and ``extends``."""
    return load_pipeline(path, REPO)


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(repo.parent)}
    env.update(
        GIT_AUTHOR_NAME="ci-test",
        GIT_AUTHOR_EMAIL="ci@example.com",
        GIT_COMMITTER_NAME="ci-test",
        GIT_COMMITTER_EMAIL="ci@example.com",
    )
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class GclResult:
    returncode: int
    stdout: str
    stderr: str

    def jobs(self) -> dict[str, dict]:
        return {job["name"]: job for job in json.loads(self.stdout)}


@dataclass
class ScratchRepo:
    """A clone of the repository's files on ``main`` with ``origin/main`` set, as in CI."""

    path: Path
    home: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def branch_with(self, name: str, files: dict[str, str]) -> None:
        """Commit ``files`` (path -> text) on a new branch ``name`` off main."""
        self.git("checkout", "-q", "-b", name, "main")
        for relative, text in files.items():
            target = self.path / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"change {', '.join(files)}")

    def gcl(self, *args: str, path_prefix: Sequence[Path] = (), timeout: int = 180) -> GclResult:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("MAKE", "MFLAGS", "GCL_", "CI_", "GITLAB_"))
        }
        # Predefined variables a test sets itself (CI_COMMIT_TAG...) must be declared as
        # overridden, or gitlab-ci-local prints a warning into --list-json's output.
        overridden = {"CI_PIPELINE_SOURCE"} | {
            value.split("=", 1)[0]
            for option, value in itertools.pairwise(args)
            if option == "--variable" and value.startswith("CI_")
        }
        env.update(
            HOME=str(self.home),
            GCL_IGNORE_PREDEFINED_VARS=",".join(sorted(overridden)),
            FORCE_COLOR="0",
            PATH=os.pathsep.join([*map(str, path_prefix), env.get("PATH", "")]),
        )
        done = subprocess.run(
            [str(GITLAB_CI_LOCAL), "--no-color", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
        )
        return GclResult(done.returncode, done.stdout, done.stderr)
