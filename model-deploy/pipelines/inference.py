"""The batch inference pipeline (SageMaker Python SDK 3.x), per the seed article::

    CreateModel, PreprocessInference -> CheckDataQuality   (inputs vs training features)
                                     -> BatchTransform -> CheckGroundTruth -> CheckModelQuality

The model version is *pinned*: ``batchops deploy`` stamps the approved version's ARN, image,
model data, drift-check baselines and quality threshold into the parameter defaults, so
what runs is what was reviewed — never "latest at run time". ``InputBucket``/``InputKey``
name the batch (the S3 rule passes the event's bucket and key; the default, the inference
prefix, means the newest batch not yet scored — ``batchops.batches``). Outputs of a run
land under ``<bucket_prefix>/inference/runs/<execution id>/``.

The definition does not depend on the dataset: the model carries its spec
(``dataset.json`` in ``model.tar.gz``), which PreprocessInference (the batch's columns,
unseen categories) and CheckModelQuality (problem type, metric, classes) read from the
pinned model data; ``QualityThreshold`` is the version's threshold (or, for mse without
one, this environment's ``accuracy_mse_threshold``). Step and parameter names are the
lifecycle contract's (``batchops.lifecycle``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from batchops import lifecycle
from batchops.images import pinned_image_uri
from batchops.pipelines.build import BuildContext
from batchops.pipelines.data_quality import check_step, engine
from batchops.pipelines.step_code import step_code

HERE = Path(__file__).resolve().parent
STEPS = HERE.parent / "steps"
ROOT = "/opt/ml/processing"
UNSET = "unset-until-deploy"


def load_config(path: Path = HERE / "config.yaml") -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _s3_input(name: str, uri: Any) -> Any:
    from sagemaker.core.shapes import ProcessingInput, ProcessingS3Input

    return ProcessingInput(
        input_name=name,
        s3_input=ProcessingS3Input(
            s3_uri=uri,
            local_path=f"{ROOT}/input/{name}" if name in ("batch", "model") else f"{ROOT}/{name}",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
        ),
    )


def _s3_output(name: str, uri: Any, mode: str = "EndOfJob") -> Any:
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(s3_uri=uri, local_path=f"{ROOT}/{name}", s3_upload_mode=mode),
    )


def build_inference(ctx: BuildContext) -> Any:
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionEquals
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TransformStep
    from sagemaker.serve.model_builder import ModelBuilder

    settings, config = ctx.settings, load_config()
    instances = config["instances"]
    names = lifecycle.PARAMETERS
    unset = {
        key: ParameterString(names[key], default_value=UNSET)
        for key in (
            "model_package_arn",
            "model_image_uri",
            "model_data_url",
            "baseline_statistics",
            "baseline_constraints",
        )
    }
    params = {
        **unset,
        "input_bucket": ParameterString(names["input_bucket"], default_value=settings.bucket_name),
        # the inference prefix itself: "the newest batch not yet scored" (batchops.batches)
        "input_key": ParameterString(
            names["input_key"], default_value=settings.inference_data_prefix
        ),
        "quality_threshold": ParameterFloat(
            names["quality_threshold"], default_value=float(settings.accuracy_mse_threshold)
        ),
        "kms_key_arn": ctx.kms_key,
        "git_commit": ParameterString(names["git_commit"], default_value="unknown"),
        "user_id": ParameterString(names["user_id"], default_value="unknown"),
    }
    if engine(ctx) == "batchops":
        # the folder holding both registered baseline files (the check stages it whole)
        params["baseline_folder"] = ParameterString(names["baseline_folder"], default_value=UNSET)
    steps, outputs_of = lifecycle.INFERENCE_STEPS, lifecycle.INFERENCE_OUTPUTS
    run = Join(
        on="/",
        values=[
            "s3:/",
            settings.bucket_name,
            settings.bucket_prefix.strip("/"),
            "inference/runs",
            ExecutionVariables.PIPELINE_EXECUTION_ID,
        ],
    )

    def run_uri(part: str) -> Any:
        return Join(on="/", values=[run, part])

    processing_image = pinned_image_uri(
        config["images"]["processing"], settings.region, instances["processing"]
    )

    def processor(job: str) -> Any:
        return ScriptProcessor(
            role=settings.role_arn,
            image_uri=processing_image,
            command=["python3"],
            instance_type=instances["processing"],
            instance_count=1,
            volume_kms_key=params["kms_key_arn"],
            output_kms_key=params["kms_key_arn"],
            base_job_name=job,
            sagemaker_session=ctx.session,
            network_config=ctx.processing_network(),
        )

    model = ModelBuilder(
        s3_model_data_url=params["model_data_url"],
        image_uri=params["model_image_uri"],
        role_arn=settings.role_arn,
        sagemaker_session=ctx.session,
        network=ctx.job_networking(),
        env_vars={
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        },
    )
    create_model = ModelStep(name=steps["create_model"], step_args=model.build())

    input_uri = Join(on="", values=["s3://", params["input_bucket"], "/", params["input_key"]])
    ground_truth_report = PropertyFile(
        name="GroundTruthStatus", output_name="status", path=lifecycle.GROUND_TRUTH_STATUS_FILE
    )
    model_data = params["model_data_url"]
    preprocess = ProcessingStep(
        name=steps["preprocess"],
        step_args=processor("batchops-preprocess-inference").run(
            kms_key=ctx.upload_kms_key,
            # the step lists, claims and reads the batch itself (batchops.batches): a
            # ProcessingInput of the prefix would download every batch ever uploaded
            code=step_code(STEPS / "preprocess_inference.py"),
            inputs=[_s3_input("model", model_data)],
            outputs=[
                _s3_output(n, run_uri(outputs_of[n])) for n in ("batch", "ground_truth", "status")
            ],
            arguments=[
                "--input-uri",
                input_uri,
                "--inference-prefix",
                settings.inference_data_prefix,
                "--claims-prefix",
                f"{settings.bucket_prefix}/inference/batches/",
                "--execution-id",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
                "--kms-key-id",
                params["kms_key_arn"],
            ],
        ),
        property_files=[ground_truth_report],
    )
    outputs = preprocess.properties.ProcessingOutputConfig.Outputs

    transformer = Transformer(
        model_name=create_model.properties.ModelName,
        instance_count=1,
        instance_type=instances["transform"],
        strategy=config["transform"]["strategy"],
        assemble_with="Line",
        accept="text/csv",
        max_payload=config["transform"]["max_payload_mb"],
        output_path=run_uri(outputs_of["predictions"]),
        output_kms_key=params["kms_key_arn"],
        volume_kms_key=params["kms_key_arn"],
        base_transform_job_name="batchops-transform",
        sagemaker_session=ctx.session,
    )
    transform = TransformStep(
        name=steps["transform"],
        step_args=transformer.transform(
            data=outputs["batch"].S3Output.S3Uri,
            content_type="text/csv",
            split_type="Line",
            join_source="Input",
        ),
    )
    predictions = transform.properties.TransformOutput.S3OutputPath

    # data quality is about the model's *inputs*: the validated batch, checked against the
    # training features' baseline registered with the pinned version; violations warn
    data_quality = check_step(
        ctx,
        steps["data_quality"],
        outputs["batch"].S3Output.S3Uri,
        run_uri(outputs_of["data_quality"]),
        baseline_statistics=params["baseline_statistics"],
        baseline_constraints=params["baseline_constraints"],
        baseline_folder=params.get("baseline_folder"),
        model_package_arn=params["model_package_arn"],
        image=config["images"]["processing"],
        instance_type=instances["quality_check"],
    ).step

    model_quality = ProcessingStep(
        name=steps["model_quality"],
        step_args=processor("batchops-model-quality").run(
            kms_key=ctx.upload_kms_key,
            code=step_code(STEPS / "model_quality.py"),
            inputs=[
                _s3_input("predictions", predictions),
                _s3_input("ground_truth", outputs["ground_truth"].S3Output.S3Uri),
                _s3_input("model", model_data),
            ],
            # Continuous: the verdict a failing check wrote is in S3 too (EndOfJob outputs
            # are uploaded only for a job that completes)
            outputs=[
                _s3_output("model_quality", run_uri(outputs_of["model_quality"]), "Continuous")
            ],
            arguments=["--threshold", params["quality_threshold"].to_string()],
        ),
    )
    has_ground_truth = ConditionStep(
        name=steps["ground_truth"],
        conditions=[
            ConditionEquals(
                left=JsonGet(
                    step_name=preprocess.name,
                    property_file=ground_truth_report,
                    json_path="present",
                ),
                right=True,
            )
        ],
        if_steps=[model_quality],
        else_steps=[],
        depends_on=[transform],
    )
    return Pipeline(
        name=ctx.pipeline_name,
        parameters=list(params.values()),
        steps=[create_model, preprocess, transform, data_quality, has_ground_truth],
        sagemaker_session=ctx.session,
    )
