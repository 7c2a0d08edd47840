"""Compatibility with AWS's Model Monitor files: schemas, the shared reference, AWS-written input.

The JSON schemas in ``schemas/`` are written from the fields AWS documents ("Schema for
Statistics / Constraints / Violations"); ``data/aws-*.json`` is a statistics/constraints
pair in the layout AWS's analyzer writes (``version: 0``, float counts, a numeric feature
without a sketch, the misspelt ``comparion_method`` of AWS's example), crafted for these
tests. ``golden/`` holds our output for a small fixed dataset (``--update-golden``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from batchops.monitor.dataquality import check_dataset, suggest_baseline

from .conftest import DATA, Abalone, inference_batch

HERE = Path(__file__).parent
REFERENCE = HERE.parents[1].parent / "shared" / "reference" / "model-monitor-formats.md"


def _schema(name: str) -> dict[str, Any]:
    return json.loads((HERE / "schemas" / f"{name}.schema.json").read_text())


def _validate(document: dict[str, Any], name: str) -> None:
    jsonschema.Draft202012Validator(_schema(name)).validate(document)


def _reference_blocks() -> dict[str, str]:
    """The fenced blocks of the shared reference, keyed by the heading above them."""
    text = REFERENCE.read_text()
    return dict(re.findall(r"## (\S+\.json)\n```\n(.*?)```", text, flags=re.S))


def _key_paths(document: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(document, dict):
        for key, value in document.items():
            paths.add(f"{prefix}{key}")
            paths |= _key_paths(value, f"{prefix}{key}.")
    elif isinstance(document, list):
        for item in document:
            paths |= _key_paths(item, prefix)
    return paths


def test_our_three_files_validate_against_the_documented_schemas(
    abalone: Abalone, tmp_path: Path
) -> None:
    batch = inference_batch(tmp_path / "b", seed=3, drift="height*1.6,sex:invalid=0.3")
    check_dataset(batch, tmp_path / "out", abalone.constraints, abalone.statistics)
    _validate(json.loads(abalone.statistics.read_text()), "statistics")
    _validate(json.loads(abalone.constraints.read_text()), "constraints")
    violations = json.loads((tmp_path / "out/constraint_violations.json").read_text())
    _validate(violations, "violations")
    assert {v["constraint_check_type"] for v in violations["violations"]} >= {
        "baseline_drift_check",
        "categorical_values_check",
    }


def test_reference_constraints_and_violations_validate_and_match_our_defaults(
    abalone: Abalone,
) -> None:
    blocks = _reference_blocks()
    reference = json.loads(blocks["constraints.json"])
    _validate(reference, "constraints")
    _validate(json.loads(blocks["constraint_violations.json"]), "violations")
    ours = json.loads(abalone.constraints.read_text())
    assert ours["monitoring_config"] == reference["monitoring_config"]
    assert ours["features"][:2] == reference["features"]  # same sex and length suggestions


def test_our_statistics_use_exactly_the_reference_field_names(abalone: Abalone) -> None:
    block = _reference_blocks()["statistics.json"]
    documented = set(re.findall(r'"(\w+)":', block))
    ours = {
        path.rsplit(".", 1)[-1] for path in _key_paths(json.loads(abalone.statistics.read_text()))
    }
    assert ours == documented


def test_suggested_monitoring_config_and_version_are_the_documented_defaults(
    abalone: Abalone,
) -> None:
    constraints = json.loads(abalone.constraints.read_text())
    assert constraints["version"] == 0.0
    distribution = constraints["monitoring_config"]["distribution_constraints"]
    assert (distribution["comparison_threshold"], distribution["comparison_method"]) == (
        0.1,
        "Robust",
    )


def test_aws_written_baseline_validates_and_is_read(tmp_path: Path) -> None:
    _validate(json.loads((DATA / "aws-statistics.json").read_text()), "statistics")
    _validate(json.loads((DATA / "aws-constraints.json").read_text()), "constraints")
    clean = _aws_layout_batch(tmp_path / "clean.csv", scale=1.0, sex="MFI")
    result = check_dataset(
        clean, tmp_path / "o1", DATA / "aws-constraints.json", DATA / "aws-statistics.json"
    )
    assert result.violations == ()


def test_aws_written_baseline_catches_drift_and_unknown_categories(tmp_path: Path) -> None:
    drifted = _aws_layout_batch(tmp_path / "drift.csv", scale=1.6, sex="X")
    result = check_dataset(
        drifted, tmp_path / "o2", DATA / "aws-constraints.json", DATA / "aws-statistics.json"
    )
    found = {(v.feature_name, v.constraint_check_type) for v in result.violations}
    assert found == {
        ("_c1", "baseline_drift_check"),
        ("_c0", "categorical_values_check"),
        ("_c0", "baseline_drift_check"),  # every share moved from M/F/I to X
    }


def _aws_layout_batch(path: Path, *, scale: float, sex: str) -> Path:
    rng = np.random.default_rng(5)
    rows = 1000
    sexes = rng.choice(list(sex), rows)
    lengths = rng.uniform(0.1, 0.8, rows) * scale
    rings = np.clip(np.round(rng.normal(9.5, 2.9, rows)), 3, 18).astype(int)
    lines = [f"{s},{x:.4f},{r}" for s, x, r in zip(sexes, lengths, rings, strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return path


GOLDEN_CSV = "M,0.455,0.365,7\nF,0.53,0.42,9\nI,0.33,0.255,\nM,0.44,0.365,10\nF,0.53,,7\n"


@pytest.mark.parametrize("name", ["statistics.json", "constraints.json"])
def test_baseline_of_a_fixed_dataset_matches_the_golden_file(
    tmp_path: Path, update_golden: bool, name: str
) -> None:
    (tmp_path / "d.csv").write_text(GOLDEN_CSV)
    suggest_baseline(tmp_path / "d.csv", tmp_path / "out")
    produced = (tmp_path / "out" / name).read_text()
    golden = HERE / "golden" / name
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(produced)
    assert produced == golden.read_text()
