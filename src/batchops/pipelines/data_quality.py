"""The pipelines' data-quality steps, for the engine the settings choose.

``data_quality_engine: batchops`` (the default): SageMaker Processing steps running
batchops' engine (:mod:`batchops.monitor.job`, shipped as the step's code) in SageMaker's
scikit-learn image, with the wheels the image lacks (polars for its Python 3.9) as a
processing input — Model Monitor is closed to new customers (AWS's availability-change
notice, effective 2026-07-30), so this is what works in every account.
``data_quality_engine: model-monitor``: the seed article's ``QualityCheck`` steps on Model
Monitor's analyzer image, for accounts that still have the service.

Both write ``statistics.json`` / ``constraints.json`` / ``constraint_violations.json`` to
the same S3 place under the same step name, and both give the training pipeline the two
baseline URIs its ``RegisterModel`` step registers (``DriftCheckBaselines`` and
``ModelMetrics``): ``CalculatedBaseline*`` step properties for QualityCheck, the processing
output's S3 URI joined with the file name for Processing. Violations never fail a run:
QualityCheck has ``fail_on_violation=False``; the Processing job exits 0 and the
notification Lambda reads its ``constraint_violations.json`` to warn.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from batchops.errors import PipelineError
from batchops.pipelines.build import BuildContext
from batchops.pipelines.step_code import PLATFORM_SCRIPTS

ENGINES = ("batchops", "model-monitor")
#: The output every data-quality step writes to (the name the SDK's QualityCheck uses).
OUTPUT_NAME = "quality_check_output"
PROCESSING = "/opt/ml/processing"
DATASET_INPUT = "baseline_dataset_input"  #: the QualityCheck step's input name, kept
DATASET_FORMAT = '{"csv": {"header": false}}'
JOB_SCRIPT = PLATFORM_SCRIPTS[0]  #: batchops.monitor.job
#: The images the batchops engine runs in: (framework, version) -> the runtime whose wheels
#: ship with the job (tools/image-runtimes/<runtime>-step-wheels.txt).
ENGINE_IMAGES = {("sklearn", "1.2-1"): "sklearn-1.2-1"}
WHEELS_DIR_ENV = "BATCHOPS_STEP_WHEELS_DIR"
PINS_DIR = Path(__file__).resolve().parents[3] / "tools" / "image-runtimes"


@dataclass(frozen=True)
class DataQualityStep:
    """A data-quality step and, for a baseline, the URIs of the files it writes."""

    step: Any
    statistics_uri: Any = None
    constraints_uri: Any = None


def engine(ctx: BuildContext) -> str:
    return str(ctx.settings.data_quality_engine)


# ----- the wheels shipped with the job -----------------------------------------------------
def wheels_dir(runtime: str) -> Path:
    return Path(os.environ.get(WHEELS_DIR_ENV, ".batchops/step-wheels")) / runtime


def pinned_hashes(runtime: str) -> set[str]:
    pins = PINS_DIR / f"{runtime}-step-wheels.txt"
    if not pins.is_file():
        raise PipelineError(f"{pins}: the pinned step wheels of {runtime} are missing")
    return set(re.findall(r"--hash=sha256:([0-9a-f]{64})", pins.read_text(encoding="utf-8")))


def step_wheels(runtime: str) -> Path:
    """The folder of wheels for ``runtime``, each checked against its pinned hash."""
    folder = wheels_dir(runtime)
    wheels = sorted(folder.glob("*.whl")) if folder.is_dir() else []
    if not wheels:
        raise PipelineError(
            f"the data-quality step's wheels for {runtime} are missing in {folder}: run "
            "`make step-wheels` (downloads them once from PyPI, hash-checked)"
        )
    allowed = pinned_hashes(runtime)
    for wheel in wheels:
        digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
        if digest not in allowed:
            raise PipelineError(
                f"{wheel}: sha256 {digest[:16]}... is not one of the pinned hashes in "
                f"tools/image-runtimes/{runtime}-step-wheels.txt; run `make step-wheels` again"
            )
    return folder


def engine_runtime(image: dict[str, str]) -> str:
    key = (image.get("framework", ""), image.get("version", ""))
    if key not in ENGINE_IMAGES:
        known = ", ".join(f"{f} {v}" for f, v in ENGINE_IMAGES)
        raise PipelineError(
            f"data_quality_engine batchops runs in {known} (its Python and the wheels shipped "
            f"for it); the pipeline configuration names {key[0]} {key[1]} for processing"
        )
    return ENGINE_IMAGES[key]


# ----- steps ---------------------------------------------------------------------------------
def _s3_input(name: str, uri: Any, local_path: str) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=uri, local_path=local_path, s3_data_type="S3Prefix", s3_input_mode="File"
        ),
    )


def _output(uri: Any) -> Any:
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=OUTPUT_NAME,
        s3_output=ProcessingS3Output(
            s3_uri=uri, local_path=f"{PROCESSING}/output", s3_upload_mode="EndOfJob"
        ),
    )


def _processor(ctx: BuildContext, image: dict[str, str], instance_type: str) -> Any:
    from sagemaker.core.processing import ScriptProcessor

    from batchops.images import pinned_image_uri

    return ScriptProcessor(
        role=ctx.settings.role_arn,
        image_uri=pinned_image_uri(image, ctx.settings.region, instance_type),
        command=["python3"],
        instance_type=instance_type,
        instance_count=1,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        base_job_name="batchops-data-quality",
        sagemaker_session=ctx.session,
        network_config=ctx.processing_network(),
    )


def _processing_step(
    ctx: BuildContext,
    name: str,
    *,
    image: dict[str, str],
    instance_type: str,
    inputs: list[Any],
    output_uri: Any,
    arguments: list[Any],
) -> Any:
    from sagemaker.mlops.workflow.steps import ProcessingStep

    from batchops.pipelines.step_code import step_code

    wheels = step_wheels(engine_runtime(image))
    step_args = _processor(ctx, image, instance_type).run(
        kms_key=ctx.upload_kms_key,
        code=step_code(JOB_SCRIPT),
        inputs=[*inputs, _s3_input("wheels", str(wheels), f"{PROCESSING}/input/wheels")],
        outputs=[_output(output_uri)],
        arguments=["--dataset-format", DATASET_FORMAT, *arguments],
    )
    return ProcessingStep(name=name, step_args=step_args)


def _check_job_config(ctx: BuildContext, instance_type: str) -> Any:
    from sagemaker.mlops.workflow.check_job_config import CheckJobConfig

    return CheckJobConfig(
        role=ctx.settings.role_arn,
        instance_count=1,
        instance_type=instance_type,
        volume_kms_key=ctx.kms_key,
        output_kms_key=ctx.kms_key,
        sagemaker_session=ctx.session,
    )


def baseline_step(
    ctx: BuildContext,
    name: str,
    dataset: Any,
    output_uri: Any,
    *,
    image: dict[str, str],
    instance_type: str,
) -> DataQualityStep:
    """Statistics + suggested constraints of ``dataset`` (the article's skip_check=True,
    register_new_baseline=True), and the two URIs to register with the model version."""
    from sagemaker.core.workflow.functions import Join

    if engine(ctx) == "model-monitor":
        from sagemaker.core.model_monitor.dataset_format import DatasetFormat
        from sagemaker.mlops.workflow.quality_check_step import (
            DataQualityCheckConfig,
            QualityCheckStep,
        )

        step = QualityCheckStep(
            name=name,
            quality_check_config=DataQualityCheckConfig(
                baseline_dataset=dataset,
                dataset_format=DatasetFormat.csv(header=False),
                output_s3_uri=output_uri,
            ),
            check_job_config=_check_job_config(ctx, instance_type),
            skip_check=True,
            register_new_baseline=True,
            model_package_group_name=ctx.settings.model_package_group_name,
        )
        return DataQualityStep(
            step,
            step.properties.CalculatedBaselineStatistics,
            step.properties.CalculatedBaselineConstraints,
        )
    step = _processing_step(
        ctx,
        name,
        image=image,
        instance_type=instance_type,
        inputs=[_s3_input(DATASET_INPUT, dataset, f"{PROCESSING}/input/{DATASET_INPUT}")],
        output_uri=output_uri,
        arguments=["--mode", "baseline"],
    )
    written = step.properties.ProcessingOutputConfig.Outputs[OUTPUT_NAME].S3Output.S3Uri
    return DataQualityStep(
        step,
        Join(on="/", values=[written, "statistics.json"]),
        Join(on="/", values=[written, "constraints.json"]),
    )


def check_step(
    ctx: BuildContext,
    name: str,
    dataset: Any,
    output_uri: Any,
    *,
    baseline_statistics: Any,
    baseline_constraints: Any,
    baseline_folder: Any,
    model_package_arn: Any,
    image: dict[str, str],
    instance_type: str,
) -> DataQualityStep:
    """``dataset`` against the deployed version's registered baseline (the article's
    skip_check=False, register_new_baseline=False); violations warn, never fail."""
    if engine(ctx) == "model-monitor":
        from sagemaker.core.model_monitor.dataset_format import DatasetFormat
        from sagemaker.mlops.workflow.quality_check_step import (
            DataQualityCheckConfig,
            QualityCheckStep,
        )

        return DataQualityStep(
            QualityCheckStep(
                name=name,
                quality_check_config=DataQualityCheckConfig(
                    baseline_dataset=dataset,
                    dataset_format=DatasetFormat.csv(header=False),
                    output_s3_uri=output_uri,
                ),
                check_job_config=_check_job_config(ctx, instance_type),
                skip_check=False,
                fail_on_violation=False,  # violations warn (notification); the run goes on
                register_new_baseline=False,
                supplied_baseline_statistics=baseline_statistics,
                supplied_baseline_constraints=baseline_constraints,
                model_package_group_name=ctx.settings.model_package_group_name,
            )
        )
    return DataQualityStep(
        _processing_step(
            ctx,
            name,
            image=image,
            instance_type=instance_type,
            inputs=[
                _s3_input(DATASET_INPUT, dataset, f"{PROCESSING}/input/{DATASET_INPUT}"),
                # the version's baseline folder: the job names the version and the file
                # when one of the two registered files is not there
                _s3_input("baseline", baseline_folder, f"{PROCESSING}/baseline"),
            ],
            output_uri=output_uri,
            arguments=[
                "--mode",
                "check",
                "--baseline-statistics",
                baseline_statistics,
                "--baseline-constraints",
                baseline_constraints,
                "--model-package-arn",
                model_package_arn,
            ],
        )
    )
