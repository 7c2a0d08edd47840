"""What AWS accepts for KMS keys and networks in the generated definitions.

* ``ResourceConfig.VolumeKmsKeyId`` (training, tuning) and ``ClusterConfig.VolumeKmsKeyId``
  (processing) take a key id or key ARN, not an alias; the data bucket's policy refuses a
  put whose ``x-amz-server-side-encryption-aws-kms-key-id`` is not the key ARN (S3 compares
  the header as sent). So every KMS field of a definition is the ``KmsKeyArn`` parameter,
  which upsert stamps with the key ARN it resolves from the configured alias.
* ``subnet_id``/``sg_id``, when set, reach every job: processing and quality checks
  (``NetworkConfig.VpcConfig``), training and tuning (``VpcConfig``) and the model the
  transform job runs (``CreateModel`` ``VpcConfig``; a transform job has no network of its
  own).

Each is checked for both data-quality engines: batchops' Processing steps and Model
Monitor's QualityCheck steps are jobs like the others.
"""

from __future__ import annotations

from typing import Any

import pytest

from batchops.config import load_settings
from batchops.pipelines.build import KMS_KEY_PARAMETER, build
from batchops.pipelines.data_quality import ENGINES
from batchops.pipelines.project import project

pytestmark = pytest.mark.slow
BUILDS = [
    ("model-build", "training", "data-science"),
    ("model-build", "hpo", "data-science"),
    ("model-deploy", "inference", "staging"),
]
KMS_FIELDS = ("KmsKeyId", "VolumeKmsKeyId")
NETWORK = {"subnet_id": "subnet-0123456789abcdef0", "sg_id": "sg-0123456789abcdef0"}
DATA_QUALITY_STEPS = {"BaselineDataQuality", "CheckDataQuality"}


def _walk(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found = []
    for step in steps:
        found.append(step)
        found.extend(_walk(step.get("Arguments", {}).get("IfSteps", [])))
        found.extend(_walk(step.get("Arguments", {}).get("ElseSteps", [])))
    return found


def _kms_values(node: Any, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in KMS_FIELDS:
                found.append((f"{path}.{key}", value))
            else:
                found.extend(_kms_values(value, f"{path}.{key}"))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_kms_values(value, f"{path}[{index}]"))
    return found


def _build(name: str, key: str, env: str, engine: str, **overrides: Any):  # -> Built
    proj = project(name)
    settings = load_settings(env, overrides={"data_quality_engine": engine, **overrides})
    return build(proj, proj.spec(key), settings)


def _data_quality_step(built: Any) -> dict[str, Any]:
    (step,) = [s for s in _walk(built.definition["Steps"]) if s["Name"] in DATA_QUALITY_STEPS]
    return step


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_kms_field_is_the_key_arn_parameter(
    name: str, key: str, env: str, engine: str
) -> None:
    built = _build(name, key, env, engine)
    values = _kms_values(built.definition["Steps"])
    assert values
    # the data-quality job encrypts its volume and its output with the stamped key ARN too
    step = _data_quality_step(built)
    assert step["Type"] == ("Processing" if engine == "batchops" else "QualityCheck")
    assert {where.rsplit(".", 1)[-1] for where, _ in _kms_values(step)} == set(KMS_FIELDS)
    reference = {"Get": f"Parameters.{KMS_KEY_PARAMETER}"}
    assert [(where, v) for where, v in values if v != reference] == []
    assert KMS_KEY_PARAMETER in {p["Name"] for p in built.definition["Parameters"]}


def _vpc(step: dict[str, Any]) -> dict[str, Any] | None:
    arguments = step["Arguments"]
    if step["Type"] in ("Processing", "QualityCheck"):
        return (arguments.get("NetworkConfig") or {}).get("VpcConfig")
    if step["Type"] == "Tuning":
        return arguments["TrainingJobDefinition"].get("VpcConfig")
    return arguments.get("VpcConfig")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_network_settings_reach_every_job(name: str, key: str, env: str, engine: str) -> None:
    built = _build(name, key, env, engine, **NETWORK)
    jobs = [
        s
        for s in _walk(built.definition["Steps"])
        if s["Type"] in ("Processing", "QualityCheck", "Training", "Tuning", "Model")
    ]
    assert jobs
    assert DATA_QUALITY_STEPS & {s["Name"] for s in jobs}
    expected = {"Subnets": [NETWORK["subnet_id"]], "SecurityGroupIds": [NETWORK["sg_id"]]}
    wrong = {s["Name"]: _vpc(s) for s in jobs if _vpc(s) != expected}
    assert wrong == {}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_without_network_settings_no_job_names_a_vpc(
    name: str, key: str, env: str, engine: str
) -> None:
    built = _build(name, key, env, engine)
    assert [s["Name"] for s in _walk(built.definition["Steps"]) if _vpc(s)] == []
