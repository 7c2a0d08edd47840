"""Generate pipeline definitions with the SageMaker SDK, offline, once per content.

The SDK costs seconds (import ~4.5 s, ``definition()`` ~6 s) and, even to write JSON, talks
to S3: it uploads the step scripts and names them by hash. So a definition is a *build
artefact*: generated inside an in-process moto (no account, no network, same on a laptop
and in CI), with every object the SDK uploaded captured as an asset beside it, and cached
under ``.batchops/build/`` by a key over the team's source files, the resolved settings
and the SDK version. ``upsert`` then uploads the assets to the target account and
creates/updates the pipeline from the JSON with boto3 — the JSON reviewed in the golden
tests is exactly what runs.

The git commit and the user are pipeline *parameters* whose defaults are stamped into the
cached JSON at load time, so a new commit does not force a regeneration.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from batchops import lifecycle
from batchops.config import Settings
from batchops.errors import BatchopsError, PipelineError
from batchops.fs import atomic_write_text, exclusive
from batchops.pipelines.assets import reproducible
from batchops.pipelines.build_folder import build_root
from batchops.pipelines.project import PipelineProject, PipelineSpec

#: The account's KMS key ARN: a parameter every KMS field of a definition refers to, stamped
#: by upsert with the ARN it resolves (SageMaker refuses an alias for VolumeKmsKeyId, and
#: the bucket policy compares the put's key id header with the key ARN).
KMS_KEY_PARAMETER = lifecycle.PARAMETERS["kms_key_arn"]
KMS_KEY_UNSET = "resolved-at-upsert"
STAMPED_PARAMETERS = (
    lifecycle.PARAMETERS["git_commit"],
    lifecycle.PARAMETERS["user_id"],
    KMS_KEY_PARAMETER,
)
#: Settings a definition never contains: changing them must not regenerate it.
NOT_IN_DEFINITIONS = {
    "gitlab_token",
    "gitlab_url",
    "gitlab_project",
    "gitlab_trigger_secret_name",
    "gitlab_read_token_secret_name",
    "recreate_pipelines",
    "email_recipient",
    "custom_notification_config",
    "notification_function_name",
    "upload_training_data",
    "upload_inference_data",
    "user_id",
}


@dataclass(frozen=True)
class BuildContext:
    """What a pipeline builder receives."""

    settings: Settings
    session: Any  #: a ``PipelineSession`` bound to the (offline) account
    pipeline_name: str
    project_root: Path

    @property
    def bucket(self) -> str:
        return self.settings.bucket_name

    def s3(self, *parts: str) -> str:
        """``s3://<bucket>/<bucket_prefix>/<parts...>``."""
        tail = "/".join(p.strip("/") for p in parts if p)
        return f"s3://{self.bucket}/{self.settings.bucket_prefix.strip('/')}/{tail}".rstrip("/")

    @functools.cached_property
    def kms_key(self) -> Any:
        """The ``KmsKeyArn`` parameter (add it to the pipeline's parameters): what every
        ``volume_kms_key``/``output_kms_key``/``kms_key_id`` of the pipeline is given."""
        from sagemaker.core.workflow.parameters import ParameterString

        return ParameterString(KMS_KEY_PARAMETER, default_value=KMS_KEY_UNSET)

    @property
    def upload_kms_key(self) -> str:
        """``kms_key`` of a processor's ``run()``: the SSE key of the build's own, offline
        code upload (never in the definition; upsert uploads the assets again with the
        resolved key ARN). Without it the SDK would use the output key parameter."""
        return self.settings.kms_key

    def _subnets(self) -> tuple[list[str], list[str]] | None:
        settings = self.settings
        if not (settings.subnet_id and settings.sg_id):
            return None
        return [settings.subnet_id], [settings.sg_id]

    def processing_network(self) -> Any:
        """``network_config`` of processors and quality checks: the article's subnet and
        security group when both are set, else None (SageMaker's own network)."""
        network = self._subnets()
        if network is None:
            return None
        from sagemaker.core.network import NetworkConfig

        return NetworkConfig(
            subnets=network[0],
            security_group_ids=network[1],
            encrypt_inter_container_traffic=True,
        )

    def job_networking(self) -> Any:
        """``networking`` of ModelTrainer (training, tuning) and ``network`` of
        ModelBuilder (the model a transform job runs), likewise."""
        network = self._subnets()
        if network is None:
            return None
        from sagemaker.train.configs import Networking

        return Networking(
            subnets=network[0],
            security_group_ids=network[1],
            enable_inter_container_traffic_encryption=True,
        )


@dataclass(frozen=True)
class Built:
    spec: PipelineSpec
    pipeline_name: str
    definition: dict[str, Any]
    assets: dict[str, Path]  #: object key in the settings' bucket -> local file
    folder: Path
    cached: bool
    #: object key -> MD5 of its body, written with the assets (``upsert`` compares it with
    #: the stored object's ``batchops-md5`` without reading 45 MB of wheels each deploy)
    asset_md5: dict[str, str] = field(default_factory=dict)


def code_prefix(settings: Settings) -> str:
    """Where the step code of the definitions lives in each account's bucket: under
    ``bucket_prefix``, which the deploy role may write and the execution role may read
    (``shared-modules/batchops-account``)."""
    return f"{settings.bucket_prefix.strip('/')}/code"


def git_commit(cwd: Path | None = None) -> str:
    env_commit = os.environ.get("CI_COMMIT_SHA") or os.environ.get("BATCHOPS_GIT_COMMIT")
    if env_commit:
        return env_commit
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    commit = out.stdout.strip() if out.returncode == 0 else "unknown"
    if commit != "unknown":
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if dirty.returncode == 0 and dirty.stdout.strip():
            commit += "-dirty"
    return commit


def cache_key(project: PipelineProject, spec: PipelineSpec, settings: Settings) -> str:
    from batchops.pipelines.step_code import shipped_digest

    digest = hashlib.sha256()
    digest.update(project.source_digest().encode())
    # the batchops modules shipped inside the team's step code (e.g. the quality engines)
    digest.update(shipped_digest(list(project.root.glob("steps/*.py"))).encode())
    digest.update(spec.key.encode())
    digest.update(settings.model_dump_json(exclude=NOT_IN_DEFINITIONS).encode())
    digest.update(version("sagemaker").encode())
    if project.reads_dataset_spec:
        from batchops.data.spec import current_spec

        digest.update(current_spec().digest().encode())
    # how a definition is generated and its assets made reproducible is part of the recipe
    for recipe in (Path(__file__), Path(__file__).with_name("assets.py")):
        digest.update(recipe.read_bytes())
    return digest.hexdigest()[:20]


def sdk_environment(folder: Path) -> dict[str, str]:
    """Environment variables that make the SDK work offline and quietly."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "sagemaker-config.yaml"
    if not config.exists():
        atomic_write_text(
            config,
            "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n"
            "      TelemetryOptOut: true\n",
        )
    return {
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config.resolve()),
        "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": str(config.resolve()),
        "SAGEMAKER_VALIDATE_ROLE": "false",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@contextmanager
def _offline_account(settings: Settings, root: Path) -> Any:
    """An in-process moto account holding the settings' bucket; yields the boto3 session."""
    import boto3
    from moto import mock_aws

    overrides = {
        **sdk_environment(root),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",  # moto's in-process fake credentials
        "AWS_DEFAULT_REGION": settings.region,
        "MOTO_ACCOUNT_ID": settings.account_id,
    }
    removed = {k: os.environ.pop(k) for k in ("AWS_ENDPOINT_URL", "AWS_PROFILE") if k in os.environ}
    saved = {k: os.environ.get(k) for k in overrides}
    os.environ.update(overrides)
    try:
        with mock_aws():
            session = boto3.Session(region_name=settings.region)
            session.client("s3").create_bucket(Bucket=settings.bucket_name)
            yield session
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(removed)


def _generate(
    project: PipelineProject, spec: PipelineSpec, settings: Settings, folder: Path
) -> None:
    """Run the generator in a child process: moto's in-process mock resets every moto
    backend of its process, which would wipe a local cloud served from this one. The
    child gets the resolved settings themselves (overrides included), not the name of an
    environment to load again."""
    command = [
        sys.executable,
        "-m",
        "batchops.pipelines.build",
        project.name,
        spec.key,
        str(folder),
    ]
    resolved = settings.model_dump_json(exclude={"gitlab_token"})
    done = subprocess.run(command, input=resolved, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        last = lines[-1].removeprefix("error: ") if lines else f"generating {spec.key} failed"
        raise PipelineError(last)


def _network_for_quality_checks(definition: dict[str, Any], ctx: BuildContext) -> None:
    """Give QualityCheck steps the network every other job has. SDK 3.27 leaves the
    ``NetworkConfig`` object of a ``CheckJobConfig`` unserialised (``definition()`` fails
    with "not JSON serializable"), so teams pass none and the build adds the request form
    a QualityCheck's CreateProcessingJob takes."""
    network = ctx.processing_network()
    if network is None:
        return
    pending = list(definition.get("Steps", []))
    while pending:
        step = pending.pop()
        arguments = step.get("Arguments", {})
        pending.extend(arguments.get("IfSteps", []) + arguments.get("ElseSteps", []))
        if step.get("Type") == "QualityCheck":
            arguments["NetworkConfig"] = network._to_request_dict()


def _check_sdk_schema_once() -> None:
    """The SDK validates its configuration on every config lookup (~60 per definition)
    with ``jsonschema.validate``, which first checks the SDK's own large schema against the
    JSON Schema meta-schema, every time: three quarters of a generation's CPU. In the
    generator's process that constant schema is checked once (here, with the same error
    if it were invalid); each configuration is still validated against it as before."""
    import jsonschema
    from sagemaker.core.config.config_schema import SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA

    sdk_schema = SAGEMAKER_PYTHON_SDK_CONFIG_SCHEMA
    validator = jsonschema.validators.validator_for(sdk_schema)
    if getattr(validator.check_schema, "_batchops_once", False):
        return
    check = validator.check_schema
    check(sdk_schema)

    def check_schema(schema: Any, *args: Any, **kwargs: Any) -> None:
        if schema is not sdk_schema:
            check(schema, *args, **kwargs)

    check_schema._batchops_once = True  # type: ignore[attr-defined]
    validator.check_schema = staticmethod(check_schema)


def generate_here(
    project: PipelineProject, spec: PipelineSpec, settings: Settings, folder: Path
) -> None:
    """Generate ``definition.json`` and its assets into ``folder`` (in this process)."""
    _check_sdk_schema_once()
    with _offline_account(settings, build_root()) as session:
        from sagemaker.core.workflow.pipeline_context import PipelineSession

        # Everything the SDK uploads (step scripts, sm_drivers, sourcedir tarballs) goes
        # under the project prefix, the only one the deploy and execution roles may reach.
        pipeline_session = PipelineSession(
            boto_session=session,
            default_bucket=settings.bucket_name,
            default_bucket_prefix=code_prefix(settings),
        )
        ctx = BuildContext(settings, pipeline_session, spec.pipeline_name(settings), project.root)
        try:
            pipeline = spec.load_builder()(ctx)
            definition = json.loads(pipeline.definition())
        except BatchopsError:  # the team's own clear errors (e.g. its config file) as they are
            raise
        except Exception as exc:  # the SDK raises anything; name the pipeline
            raise PipelineError(
                f"generating {spec.key} ({spec.builder}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        _network_for_quality_checks(definition, ctx)
        s3 = session.client("s3")
        objects: dict[str, bytes] = {}
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=settings.bucket_name):
            for item in page.get("Contents", []):
                body = s3.get_object(Bucket=settings.bucket_name, Key=item["Key"])["Body"].read()
                objects[item["Key"]] = body
    text, objects = reproducible(
        definition,
        objects,
        bucket=settings.bucket_name,
        prefix=code_prefix(settings),
        checkout=project.root.parent,
    )
    assets: dict[str, str] = {}
    md5s: dict[str, str] = {}
    for key, body in sorted(objects.items()):
        name = hashlib.sha256(key.encode()).hexdigest()[:16]
        target = folder / "assets" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        assets[key] = name
        md5s[key] = hashlib.md5(body, usedforsecurity=False).hexdigest()
    atomic_write_text(folder / "assets-md5.json", json.dumps(md5s, indent=2, sort_keys=True))
    atomic_write_text(folder / "assets.json", json.dumps(assets, indent=2, sort_keys=True))
    atomic_write_text(folder / "definition.json", text)


def stamp(definition: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    for parameter in definition.get("Parameters", []):
        if parameter.get("Name") in values:
            parameter["DefaultValue"] = values[parameter["Name"]]
    return definition


def build(
    project: PipelineProject, spec: PipelineSpec, settings: Settings, *, force: bool = False
) -> Built:
    """The definition and its assets, generated unless a cached copy matches."""
    key = cache_key(project, spec, settings)
    folder = build_root() / settings.environment / spec.pipeline_name(settings) / key
    # one generation per key at a time: a second process (another pytest worker, a second
    # `batchops` run) waits for the first and then reads its cached copy
    with exclusive(folder.parent / f"{key}.lock"):
        cached = (folder / "definition.json").is_file() and not force
        if not cached:
            _generate(project, spec, settings, folder)
    definition = json.loads((folder / "definition.json").read_text(encoding="utf-8"))
    assets = json.loads((folder / "assets.json").read_text(encoding="utf-8"))
    md5_file = folder / "assets-md5.json"
    md5s = json.loads(md5_file.read_text(encoding="utf-8")) if md5_file.is_file() else {}
    stamp(
        definition,
        {"GitCommit": git_commit(project.root), "UserId": settings.user_id or "unknown"},
    )
    return Built(
        spec=spec,
        pipeline_name=spec.pipeline_name(settings),
        definition=definition,
        assets={k: folder / "assets" / v for k, v in assets.items()},
        folder=folder,
        cached=cached,
        asset_md5=md5s,
    )


def _main(argv: list[str]) -> int:
    from batchops.errors import BatchopsError
    from batchops.pipelines.project import project as find_project

    project_name, key, folder = argv
    try:
        proj = find_project(project_name)
        settings = Settings.model_validate_json(sys.stdin.read())
        generate_here(proj, proj.spec(key), settings, Path(folder))
    except BatchopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def normalized(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with the stamped parameters reset — what golden tests compare
    (generation is reproducible: no timestamps or machine paths to mask)."""
    data = json.loads(json.dumps(definition, sort_keys=True))
    for parameter in data.get("Parameters", []):
        if parameter.get("Name") in STAMPED_PARAMETERS:
            parameter["DefaultValue"] = "unknown"
    return dict(data)


def check_golden(built: Built, golden: Path, *, update: bool) -> str | None:
    """None when ``built`` matches ``golden`` (rewritten first when ``update``)."""
    current = json.dumps(normalized(built.definition), indent=2, sort_keys=True) + "\n"
    if update or not golden.exists():
        atomic_write_text(golden, current)
        return None if update else f"{golden} did not exist; written — review and commit it"
    if golden.read_text(encoding="utf-8") == current:
        return None
    import difflib

    diff = difflib.unified_diff(
        golden.read_text(encoding="utf-8").splitlines(),
        current.splitlines(),
        str(golden),
        "generated",
        lineterm="",
        n=2,
    )
    return "\n".join(list(diff)[:80])


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
