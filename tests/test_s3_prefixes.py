"""Every object the build uploads and every S3 location a definition names lies where the
roles may reach it.

On AWS, the deploy role (upsert) may write only ``<bucket>/<bucket_prefix>/*`` and the
SageMaker execution role (the jobs) may read and write only its ``bucket_prefixes``
(``shared-modules/batchops-account/*.tf``); anything else is a 403 at upsert or a job
that cannot read its code. The allowed prefixes are read from the Terraform the accounts
apply, with ``var.bucket_prefix`` resolved from the settings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from batchops.config import Settings, load_settings
from batchops.pipelines.build import build
from batchops.pipelines.project import project

REPO = Path(__file__).resolve().parents[1]
ACCOUNT_MODULE = REPO / "shared-modules" / "batchops-account"


def _terraform() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(ACCOUNT_MODULE.glob("*.tf")))


BUILDS = [
    ("model-build", "training", "data-science"),
    ("model-build", "hpo", "data-science"),
    ("model-deploy", "inference", "staging"),
    ("model-deploy", "inference", "production"),
]


def _resolve(expression: str, settings: Settings) -> str:
    return expression.replace("${var.bucket_prefix}", settings.bucket_prefix).replace(
        "var.bucket_prefix", settings.bucket_prefix
    )


def deploy_role_prefixes(settings: Settings) -> list[str]:
    """Object prefixes of the deploy role's ``UploadStepCode`` statement."""
    text = _terraform()
    start = re.search(r'sid\s*=\s*"UploadStepCode"', text)
    assert start, (
        "the deploy role's UploadStepCode statement is not in shared-modules/batchops-account"
    )
    block = text[start.start() :].split("\n    }", 1)[0]
    resources = re.search(r"resources\s*=\s*\[(.*)\]", block, re.S)
    assert resources, block
    found = re.findall(r'"\$\{module\.data_bucket\.bucket_arn\}/(.+?)\*"', resources.group(1))
    return [_resolve(p, settings) for p in found]


def execution_role_prefixes(settings: Settings) -> list[str]:
    """``bucket_prefixes`` the account passes to the SageMaker execution role."""
    text = _terraform()
    listed = re.search(r"bucket_prefixes\s*=\s*\[(.*?)\]", text)
    assert listed, "bucket_prefixes not found in shared-modules/batchops-account"
    return [
        _resolve(p.strip(), settings).strip('"').strip("/") + "/"
        for p in listed.group(1).split(",")
    ]


def _static_prefix(value: Any) -> str | None:
    """The literal start of an S3 location in a definition: a string, or the leading
    literal values of a ``Std:Join`` (nested joins too); None when it is not S3."""
    if isinstance(value, str):
        return value if value.startswith("s3://") else None
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        parts: list[str] = []
        for item in join["Values"]:
            literal = item if isinstance(item, str) else _static_prefix(item)
            if literal is None:
                break
            parts.append(literal)
            if not isinstance(item, str):
                break
        text = join["On"].join(parts)
        # "s3://" + a parameter: where it points is the parameter's (checked apart)
        return text if text.startswith("s3://") and len(text) > len("s3://") else None
    return None


def s3_locations(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if "Std:Join" in node:
            prefix = _static_prefix(node)
            if prefix:
                return [prefix]
        for value in node.values():
            found.extend(s3_locations(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(s3_locations(value))
    elif isinstance(node, str) and node.startswith("s3://") and node != "s3://":
        found.append(node)
    return found


def test_the_prefixes_are_read_from_terraform() -> None:
    settings = load_settings("staging")
    assert deploy_role_prefixes(settings) == ["pipeline_shared/batch-scoring/"]
    assert execution_role_prefixes(settings) == ["pipeline_shared/batch-scoring/"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_uploaded_asset_is_where_the_deploy_role_may_write(
    name: str, key: str, env: str
) -> None:
    settings = load_settings(env)
    proj = project(name)
    built = build(proj, proj.spec(key), settings)
    allowed = deploy_role_prefixes(settings)
    outside = [k for k in built.assets if not any(k.startswith(p) for p in allowed)]
    assert built.assets and outside == []


@pytest.mark.slow
@pytest.mark.parametrize(("name", "key", "env"), BUILDS)
def test_every_s3_location_of_a_definition_is_where_the_jobs_may_reach(
    name: str, key: str, env: str
) -> None:
    settings = load_settings(env)
    proj = project(name)
    built = build(proj, proj.spec(key), settings)
    allowed = [f"s3://{settings.bucket_name}/{p}" for p in execution_role_prefixes(settings)]
    locations = s3_locations(built.definition)
    assert locations
    defaults = {p["Name"]: p.get("DefaultValue") for p in built.definition["Parameters"]}
    if "InputKey" in defaults:
        locations.append(f"s3://{defaults['InputBucket']}/{defaults['InputKey']}")
    outside = sorted({loc for loc in locations if not any(loc.startswith(p) for p in allowed)})
    assert outside == []
