"""Processing steps: inputs from S3, the container command, outputs back to S3.

``InstanceCount`` instances run, each a container process with its own /opt/ml (its
``resourceconfig.json`` names it ``algo-N`` among the job's hosts), its share of the
``ShardedByS3Key`` inputs and all of the ``FullyReplicated`` ones; each uploads its outputs.
"""

from __future__ import annotations

from typing import Any

from batchops.localcloud.executor.context import (
    StepContext,
    StepFailed,
    StepOutcome,
    container_environment,
    image_runtime,
    run_container,
    volume_key,
)
from batchops.localcloud.executor.steps._job import (
    hosts_of,
    instance_count,
    instances,
    job_properties,
    prepare_workspace,
    publish_outputs,
    run_on_instances,
    stage_inputs,
)
from batchops.localcloud.executor.steps.quality import run_analyzer_container

MODEL_MONITOR_IMAGE = "sagemaker-model-monitor-analyzer"
_JOB_FIELDS = (
    "AppSpecification",
    "Environment",
    "NetworkConfig",
    "ProcessingInputs",
    "ProcessingOutputConfig",
    "ProcessingResources",
    "RoleArn",
    "StoppingCondition",
)


def record_job(ctx: StepContext, args: dict[str, Any], job_name: str) -> None:
    """Make ``DescribeProcessingJob`` answer for this job, as it does for a pipeline's jobs
    on AWS (SageMaker creates them with the pipeline role; names are looked up as in the
    job's ARN). A refusal is logged, never a step failure."""
    request = {key: args[key] for key in _JOB_FIELDS if args.get(key)}
    name = ctx.arn("processing-job", job_name).rsplit("/", 1)[-1]
    try:
        ctx.sagemaker(ctx.options.get("pipeline_role_arn")).create_processing_job(
            ProcessingJobName=name, **request
        )
    except Exception as exc:  # botocore raises ClientError and ParamValidationError
        ctx.log(f"DescribeProcessingJob will not know {name}: {str(exc).splitlines()[0]}")


def processing_instance_count(args: dict[str, Any]) -> int:
    cluster = (args.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return instance_count(
        cluster.get("InstanceCount"), "processingResources.clusterConfig.instanceCount"
    )


def run_processing(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    cluster = (args.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    volume_key(
        ctx, cluster.get("VolumeKmsKeyId"), "ClusterConfig.VolumeKmsKeyId", args.get("RoleArn")
    )
    app = args.get("AppSpecification") or {}
    job_name = ctx.job_name()
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    image = str(app.get("ImageUri", ""))
    metadata = {"ProcessingJob": {"Arn": ctx.arn("processing-job", job_name)}}
    if not entrypoint and MODEL_MONITOR_IMAGE in image:
        prepare_workspace(ctx, args)
        stage_inputs(ctx, args)
        try:
            run_analyzer_container(ctx, args)
        except StepFailed:
            publish_outputs(ctx, args, failed=True)
            raise
        finally:
            ctx.emit_job_log("/aws/sagemaker/ProcessingJobs", job_name, ctx.log_path)
        publish_outputs(ctx, args)
        record_job(ctx, args, job_name)
        return StepOutcome(properties=job_properties(ctx, args, job_name), metadata=metadata)
    if not entrypoint:
        raise StepFailed(
            f"ClientError: image {image!r} has no ContainerEntrypoint; the local cloud runs "
            "script processors (entrypoint + code input) and the Model Monitor analyzer"
        )
    count = processing_instance_count(args)
    hosts = hosts_of(count)
    runtime = image_runtime(ctx, image)
    command = entrypoint + [str(a) for a in app.get("ContainerArguments") or []]
    timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    job = {
        **args,
        "ProcessingJobName": job_name,
        "ProcessingJobArn": metadata["ProcessingJob"]["Arn"],
    }

    def run_instance(index: int, host: str, instance: StepContext) -> None:
        prepare_workspace(instance, job, host, hosts)
        stage_inputs(instance, args, (index, count))
        try:
            run_container(
                instance,
                command,
                environment=container_environment(instance, args.get("Environment")),
                cwd=instance.workspace,
                timeout_s=float(timeout) if timeout else None,
                runtime=runtime,
            )
        finally:
            if count > 1:
                ctx.emit_job_log("/aws/sagemaker/ProcessingJobs", job_name, instance.log_path, host)

    try:
        ran = run_on_instances(ctx, count, run_instance)
    except StepFailed:
        for _host, instance in instances(ctx, count):
            publish_outputs(instance, args, failed=True)
        raise
    finally:
        if count == 1:
            ctx.emit_job_log("/aws/sagemaker/ProcessingJobs", job_name, ctx.log_path)
    # each instance uploads its outputs (in host order: the same key from two instances
    # ends with the last one's object, as concurrent uploads on AWS leave the last writer's)
    for _host, instance in ran:
        publish_outputs(instance, args)
    record_job(ctx, args, job_name)
    return StepOutcome(properties=job_properties(ctx, args, job_name), metadata=metadata)
