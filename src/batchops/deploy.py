"""Deploy a pinned, approved model version's inference pipeline into staging/production.

``deploy`` assumes the target account's deploy role, reads the version from the central
registry cross-account (the group's resource policy must allow it), enforces the rules —

* only ``Approved`` versions are deployed (so a rejected one never is);
* production accepts only the version currently deployed to staging whose latest staging
  inference run succeeded (there is no ``--force``) — read from the evidence staging
  records on the model versions in the central registry (:mod:`batchops.promotion`), never
  from staging itself;

— then upserts the inference pipeline with the version's ARN, image, model data and
drift-check baselines stamped into the parameter defaults, and records the deployment
in the target account (``<bucket_prefix>/deployments/history.json``, the record
``deployments list`` reads) and as the GitOps record ``model-deploy/environments/<env>.yaml``
— which only a CI job deploying to AWS writes (its artefact is what a merge request shows).
A deployment to the local cloud keeps that file under the local cloud's state folder
(``<state>/environments/``), so a local experiment never rewrites tracked files; a deploy
from a laptop to AWS writes none (the account's history is the record). A failure before
the upsert records nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from batchops import lifecycle, registry
from batchops.aws import Clients, clients_for, error_message
from batchops.config import Settings, load_settings
from batchops.deploy_inputs import validate_deploy_request
from batchops.errors import CloudError, ConfigError, GovernanceError
from batchops.fs import atomic_write_text
from batchops.kms import key_arn

DEPLOY_ENVIRONMENTS = ("staging", "production")
ENVIRONMENTS_DIR_ENV = "BATCHOPS_ENVIRONMENTS_DIR"


@dataclass(frozen=True)
class Deployment:
    environment: str
    version: int
    model_package_arn: str
    pipeline_name: str
    pipeline_arn: str
    deployed_by: str
    at: str
    git_commit: str
    action: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def history_key(settings: Settings) -> str:
    return f"{settings.bucket_prefix.strip('/')}/deployments/history.json"


def read_history(clients: Clients, settings: Settings) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    try:
        body = (
            clients.client("s3")
            .get_object(Bucket=settings.bucket_name, Key=history_key(settings))["Body"]
            .read()
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
            return []
        raise CloudError(
            f"cannot read the deployment history of {settings.environment}: {error_message(exc)}"
        ) from None
    try:
        history = json.loads(body)
    except ValueError:
        raise CloudError(
            f"s3://{settings.bucket_name}/{history_key(settings)} is not JSON"
        ) from None
    return list(history)


def _write_history(clients: Clients, settings: Settings, history: list[dict[str, Any]]) -> None:
    clients.client("s3").put_object(
        Bucket=settings.bucket_name,
        Key=history_key(settings),
        Body=json.dumps(history, indent=2).encode(),
        ContentType="application/json",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn(clients, settings),
    )


def environments_dir(endpoint: str | None = None) -> Path | None:
    """Where the GitOps record of a deployment goes (None: nowhere, see the module docs)."""
    from batchops.aws import endpoint_from
    from batchops.config import find_config_dir

    override = os.environ.get(ENVIRONMENTS_DIR_ENV)
    if override:
        return Path(override)
    local = endpoint_from(endpoint)
    if local:
        return _local_state_dir(local) / "environments"
    if os.environ.get("CI"):
        return find_config_dir().parent / "model-deploy" / "environments"
    return None


def _local_state_dir(endpoint: str) -> Path:
    """The state folder of the local cloud at ``endpoint`` (it says so on /_batchops/health)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{endpoint}/_batchops/health", timeout=10) as answer:
            return Path(json.load(answer)["state_dir"])
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        raise CloudError(
            f"cannot ask the local cloud at {endpoint} for its state folder: {exc}"
        ) from None


def read_environment_file(env: str, folder: Path | None = None) -> dict[str, Any]:
    if folder is None:
        return {"environment": env, "current": None, "history": []}
    path = folder / f"{env}.yaml"
    if not path.exists():
        return {"environment": env, "current": None, "history": []}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("history", []), list):
        raise ConfigError(f"{path}: expected a mapping with a 'history' list")
    if data.get("environment", env) != env:
        raise ConfigError(f"{path}: 'environment' is {data.get('environment')!r}, not {env!r}")
    return data


def _write_environment_file(env: str, record: Deployment, folder: Path | None) -> None:
    if folder is None:
        return
    data = read_environment_file(env, folder)
    history = [*data.get("history", []), record.to_json()]
    document = {"environment": env, "current": record.to_json(), "history": history}
    header = (
        "# What is deployed in this environment: written by `batchops deploy`,\n"
        "# reviewed in the merge request. Do not edit by hand.\n"
    )
    atomic_write_text(folder / f"{env}.yaml", header + yaml.safe_dump(document, sort_keys=False))


def check_promotion(
    env: str, version: registry.ModelVersion, clients: Clients, settings: Settings
) -> None:
    """Production takes only the version staging runs whose latest staging run succeeded.

    Read from the evidence staging leaves on the model versions in the central registry
    (:mod:`batchops.promotion`) with the production account's own registry read access:
    production never assumes a staging role nor reads a staging resource.
    """
    if env != "production":
        return
    from batchops import promotion

    packages = [
        registry.describe_package(clients, v.arn) for v in registry.list_versions(clients, settings)
    ]
    package = next((p for p in packages if p["ModelPackageArn"] == version.arn), None)
    if package is None:
        package = registry.describe_package(clients, version.arn)
    reason = promotion.refusal(version.version, package, promotion.staging_version(packages))
    if reason:
        raise GovernanceError(reason)


def _baselines(package: dict[str, Any]) -> tuple[str, str]:
    quality = (package.get("DriftCheckBaselines") or {}).get("ModelDataQuality") or {}
    stats = (quality.get("Statistics") or {}).get("S3Uri")
    constraints = (quality.get("Constraints") or {}).get("S3Uri")
    if not stats or not constraints:
        raise GovernanceError(
            f"{package['ModelPackageArn']} has no data-quality drift-check "
            "baselines; it cannot be monitored and is not deployed"
        )
    return stats, constraints


def baseline_folder(package_arn: str, statistics: str, constraints: str) -> str:
    """The S3 folder holding both baseline files (the data-quality check stages it)."""
    folders = [uri.rsplit("/", 1)[0] + "/" for uri in (statistics, constraints)]
    if not all(uri.startswith("s3://") for uri in (statistics, constraints)):
        raise GovernanceError(
            f"{package_arn}: drift-check baselines must be S3 URIs, got {statistics} and "
            f"{constraints}"
        )
    common = folders[0]
    while not folders[1].startswith(common):
        common = common.rstrip("/").rsplit("/", 1)[0] + "/"
    if common.count("/") < 4:  # s3://bucket/ alone: different buckets or no shared folder
        raise GovernanceError(
            f"{package_arn}: its data-quality statistics ({statistics}) and constraints "
            f"({constraints}) share no folder; register both files under one prefix"
        )
    return common


def quality_threshold(package: dict[str, Any], settings: Settings) -> float:
    """The version's model-quality threshold in this environment: the one its dataset spec
    named, else (mse without a threshold) the environment's ``accuracy_mse_threshold``."""
    meta = package.get("CustomerMetadataProperties") or {}
    text = str(meta.get("quality_threshold") or "accuracy_mse_threshold")
    if text == "accuracy_mse_threshold":
        return float(settings.accuracy_mse_threshold)
    try:
        return float(text)
    except ValueError:
        raise GovernanceError(
            f"{package['ModelPackageArn']}: quality_threshold {text!r} is not a number"
        ) from None


def deploy(
    env: str, ref: str | None, *, endpoint: str | None = None, actor: str | None = None
) -> Deployment:
    from batchops.pipelines.build import build, git_commit, stamp
    from batchops.pipelines.deploy import upsert
    from batchops.pipelines.project import project

    if env not in DEPLOY_ENVIRONMENTS:
        raise ConfigError(f"deploy targets {' or '.join(DEPLOY_ENVIRONMENTS)}, not {env!r}")
    record_folder = environments_dir(endpoint)
    read_environment_file(env, record_folder)  # a hand-broken record stops it before any write
    settings = load_settings(env)
    clients = clients_for(settings, endpoint)
    # trigger variables, the ARN's account/group/format and its registry status (issue 16,
    # defect 11): refused before anything is read or written in the target account
    validate_deploy_request(ref, settings, clients.client("sagemaker"), os.environ)
    if ref is None:
        version = registry.latest_approved(clients, settings)
        if version is None:
            raise GovernanceError(
                f"no approved version in {settings.model_package_group_name}: approve one "
                "with `batchops models approve V` first"
            )
    else:
        version = registry.resolve(clients, settings, ref)
    registry.require_deployable(version)
    check_promotion(env, version, clients, settings)
    package = registry.describe_package(clients, version.arn)
    statistics, constraints = _baselines(package)
    container = package["InferenceSpecification"]["Containers"][0]
    proj = project("model-deploy")
    built = build(proj, proj.spec("inference"), settings)
    names = lifecycle.PARAMETERS
    stamp(
        built.definition,
        {
            names["model_package_arn"]: version.arn,
            names["model_image_uri"]: container["Image"],
            names["model_data_url"]: container["ModelDataUrl"],
            names["baseline_statistics"]: statistics,
            names["baseline_constraints"]: constraints,
            names["quality_threshold"]: quality_threshold(package, settings),
            # read by the batchops data-quality check (absent from model-monitor definitions)
            names["baseline_folder"]: baseline_folder(version.arn, statistics, constraints),
        },
    )
    done = upsert(clients, settings, built)
    record = Deployment(
        environment=env,
        version=version.version,
        model_package_arn=version.arn,
        pipeline_name=done.pipeline_name,
        pipeline_arn=done.pipeline_arn,
        deployed_by=actor or registry._actor(),
        at=datetime.now(UTC).isoformat(),
        git_commit=git_commit(),
        action=done.action,
    )
    history = read_history(clients, settings)
    _write_history(clients, settings, [*history, record.to_json()])
    _write_environment_file(env, record, record_folder)
    if env == "staging":  # the evidence production reads (batchops.promotion)
        _record_staging_deploy(clients, version, record.at)
    return record


def _record_staging_deploy(clients: Clients, version: registry.ModelVersion, at: str) -> None:
    from botocore.exceptions import ClientError

    from batchops import promotion

    try:
        promotion.record_staging_deploy(clients.client("sagemaker"), version.arn, at)
    except ClientError as exc:
        raise CloudError(
            f"v{version.version} is deployed to staging, but recording it on the model version "
            f"failed: {error_message(exc)} (the registry's group policy must allow staging "
            "sagemaker:UpdateModelPackage); production will refuse it until a deploy records it"
        ) from None


def pinned_model_arn(clients: Clients, pipeline_name: str) -> str | None:
    """The ModelPackageArn default of a deployed inference pipeline (None: not pinned)."""
    from botocore.exceptions import ClientError

    try:
        described = clients.client("sagemaker").describe_pipeline(PipelineName=pipeline_name)
    except ClientError:
        return None
    definition = json.loads(described.get("PipelineDefinition") or "{}")
    for parameter in definition.get("Parameters", []):
        if parameter.get("Name") == "ModelPackageArn" and parameter.get("DefaultValue"):
            return str(parameter["DefaultValue"])
    return None


def require_pinned_approved(
    clients: Clients, settings: Settings, parameters: dict[str, str]
) -> None:
    """An inference run scores with an approved version only (a rejected one stops serving)."""
    arn = parameters.get("ModelPackageArn") or pinned_model_arn(clients, settings.pipeline_inf)
    if not arn:
        return
    version = registry.resolve(clients, settings, arn)
    if version.status != registry.APPROVED:
        raise GovernanceError(
            f"{settings.pipeline_inf} in {settings.environment} runs v{version.version}, which "
            f"is {version.status} now: deploy an approved version first (`batchops deploy "
            f"--env {settings.environment}` takes the latest approved)"
        )


def list_deployments(env: str | None, endpoint: str | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name in [env] if env else list(DEPLOY_ENVIRONMENTS):
        settings = load_settings(name)
        clients = clients_for(settings, endpoint)
        history = read_history(clients, settings)
        for index, item in enumerate(history):
            current = index == len(history) - 1
            row = {**item, "current": current}
            if current:  # a version rejected since it was deployed must not look fine
                try:
                    row["status_now"] = registry.resolve(
                        clients, settings, item["model_package_arn"]
                    ).status
                except Exception:  # the registry is unreadable: say so, do not guess
                    row["status_now"] = "unknown"
            rows.append(row)
    return rows
