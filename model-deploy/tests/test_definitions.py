"""Golden test of the inference pipeline definition (``pytest --update-golden`` to accept)."""

from __future__ import annotations

import pytest

from batchops.config import load_settings
from batchops.pipelines.build import build, check_golden
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow


def test_inference_definition_matches_golden(update_golden: bool) -> None:
    proj = project("model-deploy")
    built = build(proj, proj.spec("inference"), load_settings("staging"))
    golden = proj.golden_path(proj.spec("inference"), "staging")
    problem = check_golden(built, golden, update=update_golden)
    assert problem is None, problem
    names = [s["Name"] for s in built.definition["Steps"]]
    assert names == [
        "CreateModel",
        "PreprocessInference",
        "BatchTransform",
        "CheckDataQuality",
        "CheckGroundTruth",
    ]
