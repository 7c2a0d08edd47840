"""The built definitions and the assets upsert uploads carry nothing of the build machine.

Two generations of the same sources are byte-identical (no timestamps in keys, no hash of
the checkout path), and no uploaded object holds the checkout path or bytecode compiled by
the builder's Python (``cpython-311.pyc`` would be dead weight in a 3.8/3.9 image).
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from batchops.config import load_settings
from batchops.pipelines.build import build
from batchops.pipelines.project import project

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _files(assets: dict[str, Path]) -> dict[str, bytes]:
    """Every uploaded object, and every member of an uploaded tarball (``key!member``)."""
    found: dict[str, bytes] = {}
    for key, path in assets.items():
        body = path.read_bytes()
        found[key] = body
        if key.endswith(".tar.gz"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
                for member in archive.getmembers():
                    handle = archive.extractfile(member)
                    found[f"{key}!{member.name}"] = handle.read() if handle else b""
    return found


@pytest.mark.parametrize(
    ("name", "key", "env"),
    [
        ("model-build", "training", "data-science"),
        ("model-build", "hpo", "data-science"),
        ("model-deploy", "inference", "staging"),
    ],
)
def test_assets_hold_no_bytecode_and_no_checkout_path(name: str, key: str, env: str) -> None:
    proj = project(name)
    built = build(proj, proj.spec(key), load_settings(env))
    files = _files(built.assets)
    assert [k for k in files if "__pycache__" in k or k.endswith(".pyc")] == []
    assert [k for k, body in files.items() if str(REPO).encode() in body] == []
    assert str(REPO) not in json.dumps(built.definition)
    # the MD5 upsert compares with the stored objects is recorded with each asset
    assert built.asset_md5 == {
        k: hashlib.md5(p.read_bytes(), usedforsecurity=False).hexdigest()
        for k, p in built.assets.items()
    }


@pytest.mark.parametrize(("name", "key", "env"), [("model-build", "hpo", "data-science")])
def test_two_generations_are_byte_identical(
    name: str, key: str, env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    proj = project(name)
    generated = []
    for attempt in ("first", "second"):
        monkeypatch.setenv("BATCHOPS_BUILD_DIR", str(tmp_path / attempt))
        built = build(proj, proj.spec(key), load_settings(env), force=True)
        generated.append(
            (
                (built.folder / "definition.json").read_bytes(),
                {k: p.read_bytes() for k, p in built.assets.items()},
            )
        )
    (first_definition, first_assets), (second_definition, second_assets) = generated
    assert sorted(first_assets) == sorted(second_assets)
    assert [k for k in first_assets if first_assets[k] != second_assets[k]] == []
    assert first_definition == second_definition


def test_moving_an_asset_under_the_code_prefix_touches_only_that_asset() -> None:
    """An object under ``bucket_prefix`` but outside ``code/`` moves alone: the other URIs
    under ``bucket_prefix`` (job outputs, run folders) keep their place."""
    from batchops.pipelines.assets import reproducible

    definition = {
        "Asset": "s3://b/pipeline_shared/x/datasets/spec-1/dataset.json",
        "Output": "s3://b/pipeline_shared/x/training/models",
        "Code": "s3://b/pipeline_shared/x/code/train/train.py",
        "Sdk": "s3://b/batchops-train/tuning-1796161979/input/sm_drivers/run.sh",
    }
    objects = {
        "pipeline_shared/x/datasets/spec-1/dataset.json": b"{}",
        "pipeline_shared/x/code/train/train.py": b"print()",
        "batchops-train/tuning-1796161979/input/sm_drivers/run.sh": b"echo",
    }
    text, moved = reproducible(
        definition, objects, bucket="b", prefix="pipeline_shared/x/code", checkout=REPO
    )
    rewritten = json.loads(text)
    assert rewritten["Output"] == "s3://b/pipeline_shared/x/training/models"
    assert rewritten["Code"] == "s3://b/pipeline_shared/x/code/train/train.py"
    assert (
        rewritten["Asset"]
        == "s3://b/pipeline_shared/x/code/pipeline_shared/x/datasets/spec-1/dataset.json"
    )
    assert rewritten["Sdk"].startswith("s3://b/pipeline_shared/x/code/batchops-train/tuning-")
    assert all(key.startswith("pipeline_shared/x/code/") for key in moved)


def test_shipped_wheels_are_one_folder_per_content_whatever_the_pipeline_or_step() -> None:
    """The data-quality step's 45 MB of wheels are stored once per bucket: two pipelines
    (and steps) shipping the same wheels name the same folder, other wheels another."""
    from batchops.pipelines.assets import reproducible

    prefix = "pipeline_shared/x/code"

    def built(pipeline: str, step: str, wheel: bytes) -> tuple[dict[str, str], dict[str, bytes]]:
        folder = f"{prefix}/{pipeline}/{step}/input/wheels"
        definition = {"Wheels": f"s3://b/{folder}", "Other": f"s3://b/{prefix}/{pipeline}/x.py"}
        objects = {f"{folder}/polars-1.0-py3-none-any.whl": wheel, f"{prefix}/{pipeline}/x.py": b""}
        text, moved = reproducible(definition, objects, bucket="b", prefix=prefix, checkout=REPO)
        return json.loads(text), moved

    training, training_objects = built("batchops-training", "BaselineDataQuality", b"wheel")
    hpo, hpo_objects = built("batchops-training-hpo", "BaselineDataQuality", b"wheel")
    other, _ = built("batchops-inference", "CheckDataQuality", b"another wheel")
    assert training["Wheels"] == hpo["Wheels"] != other["Wheels"]
    assert training["Wheels"].startswith(f"s3://b/{prefix}/wheels/")
    assert training["Other"] == f"s3://b/{prefix}/batchops-training/x.py"
    folder = training["Wheels"].removeprefix("s3://b/")
    assert training_objects[f"{folder}/polars-1.0-py3-none-any.whl"] == b"wheel"
    assert set(training_objects) & set(hpo_objects) == {f"{folder}/polars-1.0-py3-none-any.whl"}
