"""Processing steps: inputs from S3, the container command, outputs back to S3."""

from __future__ import annotations

from typing import Any

from batchops.localcloud.executor.context import (
    StepContext,
    StepFailed,
    StepOutcome,
    container_environment,
    run_container,
)
from batchops.localcloud.executor.steps._job import (
    job_properties,
    prepare_workspace,
    publish_outputs,
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


def run_processing(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    app = args.get("AppSpecification") or {}
    job_name = ctx.job_name()
    entrypoint = list(app.get("ContainerEntrypoint") or [])
    image = str(app.get("ImageUri", ""))
    prepare_workspace(ctx, args)
    stage_inputs(ctx, args)
    metadata = {"ProcessingJob": {"Arn": ctx.arn("processing-job", job_name)}}
    try:
        if not entrypoint and MODEL_MONITOR_IMAGE in image:
            run_analyzer_container(ctx, args)
        elif not entrypoint:
            raise StepFailed(
                f"ClientError: image {image!r} has no ContainerEntrypoint; the local cloud runs "
                "script processors (entrypoint + code input) and the Model Monitor analyzer"
            )
        else:
            command = entrypoint + [str(a) for a in app.get("ContainerArguments") or []]
            timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
            run_container(
                ctx,
                command,
                environment=container_environment(ctx, args.get("Environment")),
                cwd=ctx.workspace,
                timeout_s=float(timeout) if timeout else None,
            )
    except StepFailed:
        publish_outputs(ctx, args, failed=True)
        raise
    finally:
        ctx.emit_job_log("/aws/sagemaker/ProcessingJobs", job_name, ctx.log_path)
    publish_outputs(ctx, args)
    record_job(ctx, args, job_name)
    return StepOutcome(properties=job_properties(ctx, args, job_name), metadata=metadata)
