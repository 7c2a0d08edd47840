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

``ResourceConfig.InstanceCount`` instances run, as SageMaker runs a distributed training
job ("How Amazon SageMaker Provides Training Information", Distributed Training
Configuration): each is a container process with its own /opt/ml, whose
``/opt/ml/input/config/resourceconfig.json`` holds ``current_host`` (``algo-N``), ``hosts``
(all of them, sorted) and ``network_interface_name``; ``SM_CURRENT_HOST``, ``SM_HOSTS``,
``SM_NETWORK_INTERFACE_NAME`` and ``SM_RESOURCE_CONFIG`` say the same to script mode (as the
SageMaker training toolkit sets them). A ``ShardedByS3Key`` channel gives each instance 1/N
of the channel's objects (API reference, ``S3DataSource.S3DataDistributionType``: "each
instance gets approximately 1/n of the number of S3 objects"; none when there are fewer
objects than instances), a ``FullyReplicated`` one (the default) all of them. Instances
beyond what the machine runs at once queue (``max_parallel_instances``), as Processing's do.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
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
    run_container,
    volume_key,
)
from batchops.localcloud.executor.steps._job import (
    SHARDED,
    hosts_of,
    instance_count,
    run_on_instances,
)
from batchops.localcloud.executor.storage import (
    download,
    extract_tarball,
    get_to_file,
    make_tarball,
    split_uri,
    upload_file,
)

_FRAMEWORK_KEYS = ("sagemaker_program", "sagemaker_submit_directory")
_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
#: The container's network interface, as resourceconfig.json names it (eth0 here: one host).
NETWORK_INTERFACE = "eth0"


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


def training_instance_count(args: dict[str, Any]) -> int:
    resources = args.get("ResourceConfig") or {}
    return instance_count(resources.get("InstanceCount"), "resourceConfig.instanceCount")


def _distribution(channel: dict[str, Any]) -> str:
    source = (channel.get("DataSource") or {}).get("S3DataSource") or {}
    return str(source.get("S3DataDistributionType") or "FullyReplicated")


def _stage_channels(
    ctx: StepContext, args: dict[str, Any], root: Path, instance: tuple[int, int] = (0, 1)
) -> dict[str, Path]:
    """The channels in instance ``instance`` = (index, count)'s /opt/ml/input/data."""
    s3 = ctx.s3(args.get("RoleArn"))
    channels: dict[str, Path] = {}
    for channel in args.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        source = (channel.get("DataSource") or {}).get("S3DataSource")
        if not source:
            raise StepFailed(f"ClientError: channel {name!r} is not an S3 data source")
        target = root / "opt/ml/input/data" / name
        try:
            download(
                s3,
                source["S3Uri"],
                target,
                data_type=source.get("S3DataType", "S3Prefix"),
                shard=instance if _distribution(channel) == SHARDED else None,
            )
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
            get_to_file(ctx.s3(args.get("RoleArn")), bucket, key, archive)
            extract_tarball(archive, code)
        user_hps = {k: v for k, v in hps.items() if not k.startswith("sagemaker_")}
        return ["python3", str(code / program), *_cli_args(user_hps)], code, user_hps
    image = (args.get("AlgorithmSpecification") or {}).get("TrainingImage", "?")
    raise StepFailed(
        f"ClientError: training image {image!r} without a script: the local cloud runs script "
        "mode (ModelTrainer source_code, or sagemaker_program/sagemaker_submit_directory)"
    )


def _resource_config(host: str, hosts: list[str]) -> dict[str, Any]:
    return {"current_host": host, "hosts": hosts, "network_interface_name": NETWORK_INTERFACE}


def _input_data_config(args: dict[str, Any], channels: dict[str, Path]) -> dict[str, Any]:
    """inputdataconfig.json: per channel, what the developer guide's example shows."""
    mode = (args.get("AlgorithmSpecification") or {}).get("TrainingInputMode") or "File"
    config: dict[str, Any] = {}
    for channel in args.get("InputDataConfig") or []:
        name = channel["ChannelName"]
        if name not in channels:
            continue
        entry = {
            "TrainingInputMode": channel.get("InputMode") or mode,
            "S3DistributionType": _distribution(channel),
            "RecordWrapperType": channel.get("RecordWrapperType") or "None",
        }
        if channel.get("ContentType"):
            entry["ContentType"] = channel["ContentType"]
        config[name] = entry
    return config


def _environment(
    ctx: StepContext,
    args: dict[str, Any],
    job: str,
    hps: dict[str, str],
    channels: dict[str, Path],
    *,
    host: str = "algo-1",
    hosts: list[str] | None = None,
) -> dict[str, str]:
    hosts = hosts or [host]
    user_channels = sorted(c for c in channels if c not in ("code", "sm_drivers"))
    base = {
        "SM_MODEL_DIR": "/opt/ml/model",
        "SM_OUTPUT_DIR": "/opt/ml/output",
        "SM_OUTPUT_DATA_DIR": "/opt/ml/output/data",
        "SM_INPUT_DIR": "/opt/ml/input",
        "SM_INPUT_CONFIG_DIR": "/opt/ml/input/config",
        "SM_CHANNELS": json.dumps(user_channels),
        "SM_HPS": json.dumps({k: _decode(v) for k, v in hps.items()}),
        "SM_CURRENT_HOST": host,
        "SM_HOSTS": json.dumps(hosts),
        "SM_NETWORK_INTERFACE_NAME": NETWORK_INTERFACE,
        "SM_RESOURCE_CONFIG": json.dumps(_resource_config(host, hosts)),
        "SM_INPUT_DATA_CONFIG": json.dumps(_input_data_config(args, channels)),
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


def _write_config(
    root: Path,
    args: dict[str, Any],
    hps: dict[str, str],
    channels: dict[str, Path],
    *,
    host: str = "algo-1",
    hosts: list[str] | None = None,
) -> None:
    config = root / "opt/ml/input/config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(hps))
    (config / "inputdataconfig.json").write_text(json.dumps(_input_data_config(args, channels)))
    (config / "resourceconfig.json").write_text(json.dumps(_resource_config(host, hosts or [host])))
    for folder in ("opt/ml/model", "opt/ml/output/data", "opt/ml/checkpoints"):
        (root / folder).mkdir(parents=True, exist_ok=True)


def _gather(root: Path, instances: list[StepContext]) -> None:
    """What SageMaker uploads from a job's instances, into ``root``'s /opt/ml.

    "If multiple containers in a single training job write to this directory
    [/opt/ml/model] they should ensure no file/directory names clash. SageMaker aggregates
    the result in a tar file and uploads to s3." ("How Amazon SageMaker Processes Training
    Output"). So every instance's /opt/ml/model goes into the one model.tar.gz; where names
    clash, the later host's file (the last writer) wins. /opt/ml/output/data is aggregated
    the same way into output.tar.gz. One instance: its /opt/ml is ``root``'s already.
    """
    for folder in ("opt/ml/model", "opt/ml/output/data"):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for instance in instances:
            source = instance.workspace / folder
            if instance.workspace != root and source.is_dir():
                shutil.copytree(source, root / folder, dirs_exist_ok=True)


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
    volume_key(
        ctx,
        (args.get("ResourceConfig") or {}).get("VolumeKmsKeyId"),
        "ResourceConfig.VolumeKmsKeyId",
        args.get("RoleArn"),
    )
    hps = {str(k): str(v) for k, v in hyperparameters.items()}
    job_ctx = _with_root(ctx, root, log_path)
    image = str((args.get("AlgorithmSpecification") or {}).get("TrainingImage", ""))
    runtime = image_runtime(job_ctx, image)
    count = training_instance_count(args)
    hosts = hosts_of(count)
    patterns = [
        (m["Name"], re.compile(m["Regex"]))
        for m in (args.get("AlgorithmSpecification") or {}).get("MetricDefinitions") or []
    ]
    found: dict[str, dict[str, float]] = {host: {} for host in hosts}
    timeout = (args.get("StoppingCondition") or {}).get("MaxRuntimeInSeconds")

    def run_instance(index: int, host: str, instance: StepContext) -> None:
        own = instance.workspace
        channels = _stage_channels(instance, args, own, (index, count))
        command, cwd, visible_hps = _script_command(instance, args, hps, channels, own)
        _write_config(own, args, visible_hps, channels, host=host, hosts=hosts)
        metrics = found[host]

        def on_line(line: str) -> None:
            for name, pattern in patterns:
                match = pattern.search(line)
                if match:
                    with contextlib.suppress(ValueError):
                        metrics[name] = float(match.group(1) if match.groups() else match.group(0))

        environment = _environment(
            instance, args, job_name, visible_hps, channels, host=host, hosts=hosts
        )
        try:
            run_container(
                instance,
                command,
                environment=environment,
                cwd=cwd,
                timeout_s=float(timeout) if timeout else None,
                log_path=instance.log_path,
                on_line=on_line,
                runtime=runtime,
            )
        finally:
            if count > 1:
                ctx.emit_job_log(_LOG_GROUP, job_name, instance.log_path, host)

    # A job with several instances completes when every instance exits 0; the first failure
    # (in host order) is the job's FailureReason, from that instance's /opt/ml/output/failure
    # ("How Amazon SageMaker AI Signals Algorithm Success and Failure": the exit code of the
    # algorithm's process; the failure file's text becomes FailureReason). A failed job
    # uploads nothing here (as with one instance).
    try:
        ran = run_on_instances(job_ctx, count, run_instance)
    finally:
        if count == 1:
            ctx.emit_job_log(_LOG_GROUP, job_name, log_path)
    _gather(root, [instance for _host, instance in ran])
    metrics: dict[str, float] = {}
    for host in reversed(hosts):
        # FinalMetricDataList: AWS documents no rule for a metric that several instances
        # log; the local cloud keeps the lowest host's (algo-1's) value
        metrics.update(found[host])
    model_uri = _upload_artifacts(ctx, args, root, job_name)
    return TrainingResult(job_name, model_uri, metrics, hps)


def _upload_artifacts(ctx: StepContext, args: dict[str, Any], root: Path, job_name: str) -> str:
    """``<S3OutputPath>/<job>/output/model.tar.gz`` (and ``output.tar.gz`` when the job wrote
    output data) from ``root``'s /opt/ml; the model's S3 URI."""
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
    return model_uri


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
