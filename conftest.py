"""Repository-wide pytest hooks: options and fixtures every suite (tests/, model-build/,
model-deploy/, policies/) shares."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite golden files (pipeline definitions, Model Monitor JSON) on purpose",
    )


#: Test files that take minutes (mostly waiting on Terraform or on step processes): collected
#: first, so that with pytest-xdist (``make test`` runs ``-n 3 --dist loadfile``) they start
#: at once beside the short ones instead of being the tail of the run.
LONG_FIRST = (
    "tests/infra/test_local_cloud_apply.py",
    "tests/test_lifecycle.py",
    "tests/test_demo_datasets.py",
    "tests/test_demo.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        try:
            path = Path(str(item.path)).resolve().relative_to(REPO).as_posix()
        except ValueError:
            return len(LONG_FIRST)
        return LONG_FIRST.index(path) if path in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: collection order within each file and among the rest


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


def _lifecycle_story(summary: dict[str, Any], records: dict[str, Any], told: str) -> None:
    """What every whole-lifecycle run on generated Abalone data shows, whichever cloud it ran
    on (the demo's bootstrapped one, the Terraform-provisioned one): v1 trained and v2 from
    HPO, both governance refusals, one GitLab trigger per approval, drift warned and clean
    batches clean, one failed model-quality verdict that started the retraining, and the
    summary agreeing with the records read back from the cloud. ``told`` is what it printed."""
    versions = {v["source"]: v for v in summary["model_versions"]}
    assert set(versions) == {"training", "hpo"}, told
    assert 1.6 <= versions["training"]["rmse"] <= 2.6
    assert versions["training"]["metric"] == "mse"
    assert versions["hpo"]["review_ref"], "the HPO version was approved with a review"
    assert summary["governance"]["hpo_without_review"] == "refused"
    assert summary["governance"]["production_before_staging_run"] == "refused"
    assert summary["gitlab_triggers"] == 2, "one trigger per approval"
    assert summary["notifications"] >= 10
    production = [d["version"] for d in summary["deployments"] if d["env"] == "production"]
    assert len(set(production)) >= 2 and production[-1] == versions["hpo"]["version"]
    runs = summary["inference_runs"]
    assert any(r["data_quality_violations"] for r in runs)
    assert all(not r["data_quality_violations"] for r in runs if r["status"] == "Succeeded")
    assert "data quality (CheckDataQuality): WARNING" in told
    assert "data quality (CheckDataQuality): no violations" in told
    qualities = [r["model_quality"] for r in runs if r["model_quality"]]
    assert len(qualities) == 3, "every labelled batch has a verdict, the failed one too"
    failed = [q for q in qualities if not q["passed"]]
    assert len(failed) == 1 and failed[0]["metric"] == "mse" and failed[0]["value"] > 10.0
    assert all(q["passed"] and q["value"] < 10.0 for q in qualities if q is not failed[0])
    assert summary["retraining"]["started"] is True
    assert summary["gitlab_triggers"] == len(records["gitlab_triggers"])
    pipelines = {(e["env"], e["pipeline"]) for e in records["executions"]}
    assert ("data-science", "batchops-training-hpo") in pipelines
    assert {("staging", "batchops-inference"), ("production", "batchops-inference")} <= pipelines
    drifted = {d["feature"] for d in records["drift"] if d["distributions"]}
    violated = {v["feature"] for r in runs for v in r["data_quality_violations"]}
    assert "_c3" in drifted and drifted == violated


@pytest.fixture(scope="session")
def lifecycle_story() -> Callable[[dict[str, Any], dict[str, Any], str], None]:
    """Asserts the outcomes of a whole-lifecycle run (:func:`_lifecycle_story`)."""
    return _lifecycle_story
