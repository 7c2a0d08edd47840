"""The pipeline configuration file: the committed one loads; a bad one is one clear line."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml

from batchops.errors import ConfigError

training = importlib.import_module("model_build.pipelines.training")
COMMITTED = Path(training.__file__).with_name("config.yaml")


def _write(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    document = yaml.safe_load(COMMITTED.read_text())
    change(document)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_the_committed_configuration_loads_unchanged() -> None:
    assert training.load_config() == yaml.safe_load(COMMITTED.read_text())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["hyperparameters"].update(eta="fast"),
            "hyperparameters: eta must be a number",
        ),
        (lambda d: d["tuning"].pop("max_jobs"), "tuning.max_jobs: Field required"),
        (lambda d: d["tuning"].update(max_jobs=0), "tuning.max_jobs"),
        (lambda d: d["tuning"].update(strategy="Genetic"), "tuning.strategy"),
        (lambda d: d["split"].update(test_fraction=0.7), "split.test_fraction"),
        (lambda d: d.update(hyperparamters={}), "hyperparamters: Extra inputs"),
        (lambda d: d["tuning"]["continuous_ranges"].update(eta=[0.3, 0.01]), "eta: [0.3, 0.01]"),
        (lambda d: d["tuning"].update(max_parallel_jobs=9), "max_parallel_jobs is above"),
    ],
)
def test_a_bad_configuration_names_file_and_key(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    path = _write(tmp_path, change)
    with pytest.raises(ConfigError) as raised:
        training.load_config(path)
    assert str(raised.value).startswith(f"{path}: ") and message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_missing_or_malformed_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file is missing"):
        training.load_config(tmp_path / "nope.yaml")
    broken = tmp_path / "config.yaml"
    broken.write_text("tuning: [unclosed\n")
    with pytest.raises(ConfigError, match=r"config.yaml line \d+: not valid YAML"):
        training.load_config(broken)
