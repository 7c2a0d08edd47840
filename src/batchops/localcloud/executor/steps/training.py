"""Training steps: SageMaker's script-mode contract, emulated by a process.

Two ways a definition can carry a training script are supported:

* **ModelTrainer (SDK 3.x)**: channels ``code`` and ``sm_drivers``; ``sm_drivers`` holds
  ``sourcecode.json`` (``entry_script``, ``command``...). The container's driver runs
  ``python <entry_script> --<hp> <value> ...`` from ``/opt/ml/input/data/code``; so do we.
* **Framework script mode (SDK 2.x style)**: hyperparameters ``sagemaker_program`` and
  ``sagemaker_submit_directory`` (an S3 ``sourcedir.tar.gz``).

The job gets the ``SM_*`` environment (``SM_MODEL_DIR``, ``SM_CHANNEL_<NAME>``, ``SM_HPS``...)
and the ``/opt/ml/input/config`` files. ``/opt/ml/model`` becomes
``<S3OutputPath>/<job>/output/model.tar.gz``; metric definitions are matched against the
log to fill ``FinalMetricDataList`` (the tuner's objective comes from there).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from batchops.errors import PipelineError
from batchops.localcloud.executor.context import (
    StepContext,
    StepFailed,
    StepOutcome,
    container_environment,
    image_runtime,
    key_id_or_arn,
    run_container,
)
from batchops.localcloud.executor.storage import (
    download,
    extract_tarball,
    make_tarball,
    split_uri,
    upload_file,
)

_FRAMEWORK_KEYS = ("sagemaker_program", "sagemaker_submit_directory")


@dataclass
class TrainingResult:
    job_name: str
    model_uri: str
    metrics: dict[str, float] = field(default_factory=dict)
    hyperparameters: dict[str, str] = field(default_factory=dict)

    def metric_list(self) -> list[dict[str, Any]]:
        return [{"MetricName": k, "Value": v} for k, v in self.metrics.items()]


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def _cli_args(hyperparameters: dict[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in hyperparameters.items():
        decoded = _decode(value)
        args += [f"--{key}", decoded if isinstance(decoded, str) else json.dumps(decoded)]
    return args


def _stage_channels(ctx: StepContext, args: dict[str, Any], root: Path) -> dict[str, Path]:
    s3 = ctx.s3(args.get("RoleArn"))
    channels: dict[str, Path] = {}
    for channel in args.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise StepFailed(f"ClientError: channel {name!r} is not an S3 data source")
        target = root / "opt/ml/input/data" / name
        try:
            download(s3, source["S3Uri"], target, data_type=source.get("S3DataType", "S3Prefix"))
        except PipelineError as exc:
            raise StepFailed(f"ClientError: channel {name!r}: {exc}") from None
        channels[name] = target
    return channels


def _script_command(
    ctx: StepContext,
    args: dict[str, Any],
    hps: dict[str, str],
    channels: dict[str, Path],
    root: Path,
) -> tuple[list[str], Path, dict[str, str]]:
    """The command, its working folder, and the hyperparameters the script sees."""
    drivers = channels.get("sm_drivers")
    if drivers is not None and "code" in channels:
        spec_path = drivers / "sourcecode.json"
        spec = json.loads(spec_path.read_text()) if spec_path.is_file() else {}
        code = channels["code"]
        if spec.get("command"):
            return ["/bin/sh", "-c", ctx.remap(str(spec["command"]))], code, hps
        entry = spec.get("entry_script")
        if not entry:
            raise StepFailed("ClientError: sourcecode.json names no entry_script or command")
        return ["python3", str(code / entry), *_cli_args(hps)], code, hps
    if "sagemaker_program" in hps:
        program = str(_decode(hps["sagemaker_program"]))
        submit = str(_decode(hps.get("sagemaker_submit_directory", "")))
        code = root / "opt/ml/code"
        if submit.startswith("s3://"):
            archive = root / "sourcedir.tar.gz"
            bucket, key = split_uri(submit)
            ctx.s3(args.get("RoleArn")).download_file(bucket, key, str(archive))
            extract_tarball(archive, code)
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        return ["python3", str(code / program), *_cli_args(user_hps)], code, user_hps
    image = (args.get("AlgorithmSpecification") or {}).get("TrainingImage", "?")
    raise StepFailed(
        f"ClientError: training image {image!r} without a script: the local cloud runs script "
        "mode (ModelTrainer source_code, or sagemaker_program/sagemaker_submit_directory)"
    )


def _environment(
    ctx: StepContext, args: dict[str, Any], job: str, hps: dict[str, str], channels: dict[str, Path]
) -> dict[str, str]:
    user_channels = sorted(c for c in channels if c not in ("code", "sm_drivers"))
    base = {
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_OUTPUT_DIR": "/opt/ml/output",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
        "SM_CHANNELS": json.dumps(user_channels),
        "SM_HPS": json.dumps({k: _decode(v) for k, v in hps.items()}),
        "SM_CURRENT_HOST": "algo-1",
        "SM_HOSTS": json.dumps(["algo-1"]),
        "SM_NUM_CPUS": str(os.cpu_count() or 1),
        "SM_NUM_GPUS": "0",
        "TRAINING_JOB_NAME": job,
        "TRAINING_JOB_ARN": ctx.arn("training-job", job),
    }
    for name in user_channels:
        base[f"SM_CHANNEL_{name.upper()}"] = f"/opt/ml/input/data/{name}"
    for key, value in hps.items():
        base[f"SM_HP_{key.upper()}"] = str(_decode(value))
    base.update({k: str(v) for k, v in (args.get("Environment") or {}).items()})
    return container_environment(ctx, base)


def _write_config(root: Path, hps: dict[str, str], channels: dict[str, Path]) -> None:
    config = root / "opt/ml/input/config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    (config / "inputdataconfig.json").write_text(
        json.dumps({name: {"TrainingInputMode": "File"} for name in channels})
    )
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"]})
    )
    for folder in ("opt/ml/model", "opt/ml/output/data", "opt/ml/checkpoints"):
        (root / folder).mkdir(parents=True, exist_ok=True)


def run_training_job(
    ctx: StepContext,
    args: dict[str, Any],
    hyperparameters: dict[str, str],
    *,
    job_name: str,
    root: Path,
    log_path: Path,
) -> TrainingResult:
    """One training job in ``root`` (its own /opt/ml), used by Training and Tuning steps."""
    key_id_or_arn(
        (args.get("ResourceConfig") or {}).get("VolumeKmsKeyId"), "ResourceConfig.VolumeKmsKeyId"
    )
    hps = {str(k): str(v) for k, v in hyperparameters.items()}
    job_ctx = _with_root(ctx, root, log_path)
    image = str((args.get("AlgorithmSpecification") or {}).get("TrainingImage", ""))
    runtime = image_runtime(job_ctx, image)
    channels = _stage_channels(ctx, args, root)
    command, cwd, visible_hps = _script_command(ctx, args, hps, channels, root)
    _write_config(root, visible_hps, channels)
    metrics: dict[str, float] = {}
    patterns = [
        (m["Name"], re.compile(m["Regex"]))
        for m in (args.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    ]

    def on_line(line: str) -> None:
        for name, pattern in patterns:
            match = pattern.search(line)
            if match:
                with contextlib.suppress(ValueError):
                    metrics[name] = float(match.group(1) if match.groups() else match.group(0))

    timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")
    try:
        run_container(
            job_ctx,
            command,
            environment=_environment(job_ctx, args, job_name, visible_hps, channels),
            cwd=cwd,
            timeout_s=float(timeout) if timeout else None,
            log_path=log_path,
            on_line=on_line,
            runtime=runtime,
        )
    finally:
        ctx.emit_job_log("/aws/sagemaker/TrainingJobs", job_name, log_path)
    output = (args.get("OutputDataConfig") or {}).get("S3OutputPath")
    if not output:
        raise StepFailed("ClientError: OutputDataConfig.S3OutputPath is required")
    kms = (args.get("OutputDataConfig") or {}).get("KmsKeyId")
    base = f"{output.rstrip('/')}/{job_name}/output"
    s3 = ctx.s3(args.get("RoleArn"))
    model_uri = upload_file(
        s3,
        make_tarball(root / "opt/ml/model", root / "model.tar.gz"),
        f"{base}/model.tar.gz",
        kms_key=kms,
    )
    data_dir = root / "opt/ml/output/data"
    if any(data_dir.iterdir()):
        upload_file(
            s3, make_tarball(data_dir, root / "output.tar.gz"), f"{base}/output.tar.gz", kms_key=kms
        )
    return TrainingResult(job_name, model_uri, metrics, hps)


def _with_root(ctx: StepContext, root: Path, log_path: Path) -> StepContext:
    """Each job is its own container: /opt/ml is this job's root, its log the job's."""
    from dataclasses import replace

    return replace(ctx, workspace=root, log_path=log_path)


def run_training(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:
    job = ctx.job_name()
    result = run_training_job(
        ctx,
        args,
        args.get("HyperParameters") or {},
        job_name=job,
        root=ctx.workspace,
        log_path=ctx.log_path,
    )
    properties = {
        **args,
        "TrainingJobName": job,
        "TrainingJobArn": ctx.arn("training-job", job),
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "ModelArtifacts": {"S3ModelArtifacts": result.model_uri},
        "FinalMetricDataList": result.metric_list(),
    }
    return StepOutcome(
        properties=properties, metadata={"TrainingJob": {"Arn": ctx.arn("training-job", job)}}
    )


def quote(command: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in command)
