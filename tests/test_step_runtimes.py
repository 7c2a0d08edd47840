"""Every script a definition ships runs under the Python of the image that runs it.

The local cloud runs steps in the project's Python 3.11; SageMaker runs them in framework
images with 3.8/3.9 (``src/batchops/images.json``). These tests read the built definitions
and their assets — what upsert uploads — and check each script against its image.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from batchops.config import load_settings
from batchops.errors import ConfigError
from batchops.images import image_for_uri, images, pinned
from batchops.pipelines.build import build
from batchops.pipelines.data_quality import ENGINES
from batchops.pipelines.project import project
from batchops.pipelines.pycompat import check, problems, scripts

REPO = Path(__file__).resolve().parents[1]
BUILDS = [
    ("model-build", "training", "data-science"),
    ("model-build", "hpo", "data-science"),
    ("model-deploy", "inference", "staging"),
]


def _built(name: str, key: str, env: str, engine: str = ENGINES[0]):  # one pipeline's Built
    proj = project(name)
    return build(
        proj, proj.spec(key), load_settings(env, overrides={"data_quality_engine": engine})
    )


@pytest.mark.parametrize(
    ("source", "python", "expected"),
    [
        ("pairs = list(zip(a, b, strict=True))\n", (3, 9), "'zip(strict)' needs Python 3.10"),
        (
            "import tarfile\nwith tarfile.open(p) as tar:\n    tar.extractall(d, filter='data')\n",
            (3, 9),
            "'extractall(filter=)' needs Python 3.12",
        ),
        ("match x:\n    case 1:\n        pass\n", (3, 9), "not Python 3.9 syntax"),
        ("if (n := len(a)) > 1:\n    pass\n", (3, 7), "not Python 3.7 syntax"),
        ("import tomllib\n", (3, 10), "'tomllib' module needs Python 3.11"),
    ],
)
def test_a_script_using_newer_python_than_its_image_is_reported(
    source: str, python: tuple[int, int], expected: str
) -> None:
    found = problems(source, "step.py", python)
    assert found and expected in found[0], found


def test_a_script_within_its_images_python_passes() -> None:
    source = (
        "from __future__ import annotations\n"
        "import tarfile\n"
        "def f(p: str) -> dict[str, int]:\n"
        "    with tarfile.open(p) as tar:\n"
        "        tar.extractall('out')\n"
        "    return dict(zip('ab', (1, 2)))\n"
    )
    assert problems(source, "step.py", (3, 8)) == []


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_shipped_script_runs_under_its_images_python(
    name: str, key: str, env: str, engine: str
) -> None:
    built = _built(name, key, env, engine)
    assert check(built.definition, built.assets) == []


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_step_script_is_found_with_its_image(name: str, key: str, env: str) -> None:
    """The check sees each script of the team's steps/ folder that a step runs (so it
    cannot pass by finding nothing), in the image the step names."""
    built = _built(name, key, env)
    found = {
        (Path(s.name.split("!")[-1]).name, s.image_uri.split("/")[-1].split(":")[0])
        for s in scripts(built.definition, built.assets)
    }
    expected = {
        # the data-quality engine (batchops.monitor.job) in the scikit-learn image
        "job.py": "sagemaker-scikit-learn",
        "dataquality.py": "sagemaker-scikit-learn",
    } | (
        {
            "preprocess.py": "sagemaker-scikit-learn",
            "train.py": "sagemaker-xgboost",
            "evaluate.py": "sagemaker-xgboost",
            "inference.py": "sagemaker-xgboost",
        }
        if name == "model-build"
        else {
            "preprocess_inference.py": "sagemaker-scikit-learn",
            "model_quality.py": "sagemaker-scikit-learn",
        }
    )
    assert set(expected.items()) <= found, sorted(found)


def _image_uris(definition: dict) -> set[str]:
    text = json.dumps(definition)
    return {
        value
        for key in ('"ImageUri": "', '"TrainingImage": "', '"Image": "')
        for value in (part.split('"', 1)[0] for part in text.split(key)[1:])
    }


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_image_a_definition_names_is_pinned(
    name: str, key: str, env: str, engine: str
) -> None:
    built = _built(name, key, env, engine)
    uris = _image_uris(built.definition)
    assert uris
    assert [u for u in uris if image_for_uri(u) is None] == []
    repositories = {u.split("/")[-1].split(":")[0] for u in uris}
    # batchops' engine runs in the pinned scikit-learn image; Model Monitor in its analyzer
    assert ("sagemaker-model-monitor-analyzer" in repositories) == (engine == "model-monitor")


def test_an_image_that_is_not_pinned_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match=r"image sklearn 1\.4-2 is not pinned \(pinned: "):
        pinned("sklearn", "1.4-2")


def _ruff_targets() -> dict[str, str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    return dict(config["tool"]["ruff"]["per-file-target-version"])


@pytest.mark.parametrize("team", ["model-build", "model-deploy"])
def test_ruff_targets_each_teams_step_scripts_at_most_at_its_oldest_image_python(team: str) -> None:
    """ruff's per-file target (syntax and pyupgrade rules while editing) is at most the
    oldest Python among the images the team's pipeline config names."""
    import yaml

    config = yaml.safe_load((REPO / team / "pipelines/config.yaml").read_text(encoding="utf-8"))
    pythons = [pinned(i["framework"], i["version"]).python for i in config["images"].values()]
    oldest = min(p for p in pythons if p)
    target = _ruff_targets().get(f"{team}/steps/**", "py311")
    assert int(target.removeprefix("py3")) <= oldest[1], (target, oldest)


def test_the_image_catalog_names_each_pinned_tag_once() -> None:
    pins = [(i.repository, i.tag) for i in images()]
    assert len(pins) == len(set(pins))
