"""Transform steps: a batch transform job over the model a Model step created.

The model's container comes from ``DescribeModel`` (``PrimaryContainer`` or
``Containers[0]``); a container that names a ``ModelPackageName`` takes image, model data
and environment from that registered version (read cross-account from the central
registry when the ARN is in another account, which the registry's resource policy must
allow). The inference script is ``SAGEMAKER_PROGRAM`` (default ``inference.py``) from
``SAGEMAKER_SUBMIT_DIRECTORY`` or, as framework containers do, the ``code/`` folder of
``model.tar.gz``. The serving loop runs in
:mod:`batchops.localcloud.executor.containers.transform_host`, under the model image's
runtime. ``TransformResources.InstanceCount`` instances each get their share of the input
objects (one object goes to one instance) and serve it with ``MaxConcurrentTransforms``
requests in flight; each uploads the outputs of its objects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from batchops.aws import error_message
from batchops.errors import PipelineError
from batchops.localcloud.executor.context import (
    StepContext,
    StepFailed,
    StepOutcome,
    container_environment,
    image_runtime,
    run_container,
)
from batchops.localcloud.executor.steps._job import instance_count, instances, run_on_instances
from batchops.localcloud.executor.storage import (
    download,
    extract_tarball,
    get_to_file,
    split_uri,
    upload_dir,
)

#: The serving loop, run as a script by the model image's runtime (standard library only).
TRANSFORM_HOST = Path(__file__).resolve().parents[1] / "containers" / "transform_host.py"


def _container(ctx: StepContext, model_name: str) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    sm = ctx.sagemaker(ctx.options.get("pipeline_role_arn"))
    try:
        model = sm.describe_model(ModelName=model_name)
    except ClientError as exc:
        raise StepFailed(f"ClientError: DescribeModel {model_name}: {error_message(exc)}") from None
    container = dict(model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0])
    package = container.get("ModelPackageName")
    if package:
        try:
            spec = sm.describe_model_package(ModelPackageName=package)["InferenceSpecification"]
        except ClientError as exc:
            raise StepFailed(
                f"ClientError: DescribeModelPackage {package}: {error_message(exc)}"
            ) from None
        base = dict(spec["Containers"][0])
        base["Environment"] = {
            **(base.get("Environment") or {}),
            **(container.get("Environment") or {}),
        }
        container = base
    if not container.get("ModelDataUrl"):
        raise StepFailed(f"ClientError: model {model_name} has no ModelDataUrl")
    return container


def _stage_model(
    ctx: StepContext, container: dict[str, Any], role: str | None
) -> tuple[Path, Path, str]:
    s3 = ctx.s3(role)
    model_dir = ctx.container_path("/opt/ml/model")
    archive = ctx.workspace / "model.tar.gz"
    bucket, key = split_uri(container["ModelDataUrl"])
    try:
        get_to_file(s3, bucket, key, archive)
    except Exception as exc:
        raise StepFailed(
            f"ClientError: cannot read model data {container['ModelDataUrl']}: {error_message(exc)}"
        ) from None
    extract_tarball(archive, model_dir)
    env = container.get("Environment") or {}
    program = str(env.get("SAGEMAKER_PROGRAM") or "inference.py")
    submit = str(env.get("SAGEMAKER_SUBMIT_DIRECTORY") or "")
    code_dir = model_dir / "code"
    if submit.startswith("s3://"):
        code_dir = ctx.workspace / "opt/ml/code"
        source = ctx.workspace / "sourcedir.tar.gz"
        bucket, key = split_uri(submit)
        get_to_file(s3, bucket, key, source)
        extract_tarball(source, code_dir)
    if not (code_dir / program).is_file():
        raise StepFailed(f"ClientError: inference script {program} not found in the model's code")
    return model_dir, code_dir, program


def transform_instance_count(args: dict[str, Any]) -> int:
    resources = args.get("TransformResources") or {}
    return instance_count(resources.get("InstanceCount"), "transformResources.instanceCount")


def _spread(input_dir: Path, hosts: list[StepContext]) -> None:
    """Deal the input objects out over the instances, in key order (as a batch transform
    job distributes its S3 objects over its instances; one object goes to one instance)."""
    files = sorted(p for p in input_dir.rglob("*") if p.is_file())
    for index, source in enumerate(files):
        instance = hosts[index % len(hosts)]
        target = instance.container_path("/opt/ml/transform/input") / source.relative_to(input_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)


def run_transform(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    role = ctx.options.get("pipeline_role_arn")
    model_name = args.get("ModelName")
    if not model_name:
        raise StepFailed("ClientError: the transform step names no ModelName")
    container = _container(ctx, model_name)
    model_dir, code_dir, program = _stage_model(ctx, container, role)
    source = (args.get("TransformInput") or {}).get("DataSource", {}).get("S3DataSource") or {}
    input_dir = ctx.workspace / "transform-input"  # spread over the instances' /opt/ml
    try:
        download(
            ctx.s3(role), source["S3Uri"], input_dir, data_type=source.get("S3DataType", "S3Prefix")
        )
    except (PipelineError, KeyError) as exc:
        raise StepFailed(f"ClientError: transform input: {exc}") from None
    transform_input = args.get("TransformInput") or {}
    transform_output = args.get("TransformOutput") or {}
    processing = args.get("DataProcessing") or {}
    if transform_input.get("SplitType", "Line") not in ("Line", None):
        raise StepFailed("ClientError: only SplitType=Line is supported locally")
    runtime = image_runtime(ctx, str(container.get("Image", "")))
    count = transform_instance_count(args)
    base = [
        runtime.python,
        str(TRANSFORM_HOST),
        "--model-dir",
        str(model_dir),
        "--code-dir",
        str(code_dir),
        "--program",
        program,
        "--content-type",
        str(transform_input.get("ContentType") or "text/csv"),
        "--accept",
        str(transform_output.get("Accept") or "text/csv"),
        "--join-source",
        str(processing.get("JoinSource") or "None"),
        "--max-payload-mb",
        str(args.get("MaxPayloadInMB") or 6),
        "--max-concurrent-transforms",
        str(args.get("MaxConcurrentTransforms") or 0),
    ]
    for key, flag in (("InputFilter", "--input-filter"), ("OutputFilter", "--output-filter")):
        if processing.get(key):
            base += [flag, str(processing[key])]
    job = ctx.job_name()
    env = container_environment(
        ctx, {**(container.get("Environment") or {}), **(args.get("Environment") or {})}
    )
    hosts = instances(ctx, count)
    _spread(input_dir, [instance for _host, instance in hosts])

    def run_instance(_index: int, host: str, instance: StepContext) -> None:
        own_input = instance.container_path("/opt/ml/transform/input")
        own_output = instance.container_path("/opt/ml/transform/output")
        own_input.mkdir(parents=True, exist_ok=True)
        own_output.mkdir(parents=True, exist_ok=True)
        command = [*base, "--input-dir", str(own_input), "--output-dir", str(own_output)]
        try:
            run_container(
                instance,
                command,
                environment=env,
                cwd=instance.workspace,
                timeout_s=None,
                runtime=runtime,
            )
        finally:
            if count > 1:
                ctx.emit_job_log("/aws/sagemaker/TransformJobs", job, instance.log_path, host)

    try:
        run_on_instances(ctx, count, run_instance)
    finally:
        if count == 1:
            ctx.emit_job_log("/aws/sagemaker/TransformJobs", job, ctx.log_path)
    target = transform_output.get("S3OutputPath")
    if not target:
        raise StepFailed("ClientError: TransformOutput.S3OutputPath is required")
    for _host, instance in hosts:  # each instance uploads the outputs of its objects
        upload_dir(
            ctx.s3(role),
            instance.container_path("/opt/ml/transform/output"),
            target,
            kms_key=transform_output.get("KmsKeyId"),
        )
    properties = {
        **args,
        "TransformJobName": job,
        "TransformJobArn": ctx.arn("transform-job", job),
        "TransformJobStatus": "Completed",
    }
    return StepOutcome(
        properties=properties, metadata={"TransformJob": {"Arn": ctx.arn("transform-job", job)}}
    )
