"""Fixtures for the GitLab CI tests: the expanded CI files and throwaway git repositories
that gitlab-ci-local can run in (it diffs the work tree against ``origin/main``)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# Helper modules beside this file (shell_commands, fake_gitlab) are imported
# by name: pytest runs with --import-mode=importlib and tests/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ci_repo import CHILDREN, GITLAB_CI_LOCAL, PARENT, REPO, ScratchRepo, git, load

from batchops.localcloud.gitlab.ci_yaml import Pipeline

FAKE_ORIGIN = "https://gitlab.example.com/ml/batchops.git"


@pytest.fixture(scope="session")
def parent() -> Pipeline:
    return load(PARENT)


@pytest.fixture(scope="session")
def children() -> dict[str, Pipeline]:
    return {name: load(path) for name, path in CHILDREN.items()}


def _tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-co", "--exclude-standard", "-z"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


@pytest.fixture(scope="session")
def gitlab_ci_local() -> Path:
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail(
            f"{GITLAB_CI_LOCAL.relative_to(REPO)} is missing: run 'make ci-tools' "
            "(installs gitlab-ci-local 4.73.0 from tools/ci/package-lock.json)"
        )
    if shutil.which("rsync") is None:
        pytest.fail("rsync is missing: run 'make ci-tools' (gitlab-ci-local runs jobs with it)")
    return GITLAB_CI_LOCAL


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The work tree (tracked and new files) committed once on ``main``."""
    root = tmp_path_factory.mktemp("template") / "batchops"
    for name in _tree_files():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main")
    return root


@pytest.fixture
def scratch_repo(
    template_repo: Path, tmp_path: Path, gitlab_ci_local: Path
) -> Callable[[], ScratchRepo]:
    def make() -> ScratchRepo:
        path = tmp_path / f"repo{len(list(tmp_path.iterdir()))}"
        git(tmp_path, "clone", "-q", str(template_repo), str(path))
        git(path, "remote", "set-url", "origin", FAKE_ORIGIN)
        home = path.parent / f"{path.name}-home"
        home.mkdir()
        return ScratchRepo(path=path, home=home)

    return make
