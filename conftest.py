"""Repository-wide pytest hooks: options and fixtures every suite (tests/, model-build/,
model-deploy/, policies/) shares."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (pipeline definitions, Model Monitor JSON) on purpose",
    )


@pytest.fixture(scope="session", autouse=True)
def _deployment_records_outside_the_checkout(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """``batchops deploy`` records deployments in ``model-deploy/environments/<env>.yaml``,
    the GitOps record users commit. Tests deploy a lot (in-process and in the GitLab
    stand-in's job subprocesses, which inherit the environment): keep those records in a
    temporary folder so a test run never rewrites the committed files."""
    name = "BATCHOPS_ENVIRONMENTS_DIR"
    before = os.environ.get(name)
    os.environ[name] = str(tmp_path_factory.mktemp("deployment-records"))
    yield
    if before is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = before


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


#: Virtualenvs with the Python + packages of a SageMaker image (``make image-runtimes``).
IMAGE_RUNTIMES = REPO / ".venv-images"


def image_python(image: str) -> Path:
    """The interpreter of an image's runtime, or a visible skip when it could not be built."""
    root = IMAGE_RUNTIMES / image
    if not (root / ".installed").is_file():
        pytest.skip(
            f"no {image} image runtime in {root} (`make image-runtimes` found no CPython of "
            f"that image's version): step code is not tested under the image's Python"
        )
    return root / "bin" / "python"


@pytest.fixture(scope="session")
def sklearn_image_python() -> Path:
    """Python 3.9 with numpy 1.24.1, pandas 1.1.3, pyarrow 14.0.1: scikit-learn 1.2-1-cpu-py3."""
    return image_python("sklearn-1.2-1")


@pytest.fixture(scope="session")
def xgboost_image_python() -> Path:
    """Python 3.8 with xgboost 1.7.4, numpy 1.19.2, pandas 1.2.4: the XGBoost 1.7-1 image."""
    return image_python("xgboost-1.7-1")
