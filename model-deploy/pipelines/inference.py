"""The batch inference pipeline (SageMaker Python SDK 3.x), per the seed article::

    CreateModel, PreprocessInference -> CheckDataQuality   (inputs vs training features)
                                     -> BatchTransform -> CheckGroundTruth -> CheckModelQuality

The model version is *pinned*: ``batchops deploy`` stamps the approved version's ARN, image,
model data and drift-check baselines into the parameter defaults, so what runs is what
was reviewed — never "latest at run time". ``InputBucket``/``InputKey`` name the
batch (the S3 rule passes the event's bucket and key; the default, the inference prefix,
means the newest batch not yet scored — ``batchops.batches``). Outputs of a run
land under ``<bucket_prefix>/inference/runs/<execution id>/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

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
            local_path=f"{ROOT}/{name}" if name != "batch" else f"{ROOT}/input/batch",
            s3_data_type="S3Prefix",
            s3_input_mode="File",
        ),
    )


def _s3_output(name: str, uri: Any) -> Any:
    from sagemaker.core.shapes import ProcessingOutput, ProcessingS3Output

    return ProcessingOutput(
        output_name=name,
        s3_output=ProcessingS3Output(
            s3_uri=uri, local_path=f"{ROOT}/{name}", s3_upload_mode="EndOfJob"
        ),
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
    params = {
        "ModelPackageArn": ParameterString("ModelPackageArn", default_value=UNSET),
        "ModelImageUri": ParameterString("ModelImageUri", default_value=UNSET),
        "ModelDataUrl": ParameterString("ModelDataUrl", default_value=UNSET),
        "BaselineStatistics": ParameterString("BaselineStatistics", default_value=UNSET),
        "BaselineConstraints": ParameterString("BaselineConstraints", default_value=UNSET),
        "InputBucket": ParameterString("InputBucket", default_value=settings.bucket_name),
        # the inference prefix itself: "the newest batch not yet scored" (batchops.batches)
        "InputKey": ParameterString("InputKey", default_value=settings.inference_data_prefix),
        "MseThreshold": ParameterFloat(
            "MseThreshold", default_value=float(settings.accuracy_mse_threshold)
        ),
        "KmsKeyArn": ctx.kms_key,
        "GitCommit": ParameterString("GitCommit", default_value="unknown"),
        "UserId": ParameterString("UserId", default_value="unknown"),
    }
    if engine(ctx) == "batchops":
        # the folder holding both registered baseline files (the check stages it whole)
        params["BaselineFolder"] = ParameterString("BaselineFolder", default_value=UNSET)
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
            volume_kms_key=params["KmsKeyArn"],
            output_kms_key=params["KmsKeyArn"],
            base_job_name=job,
            sagemaker_session=ctx.session,
            network_config=ctx.processing_network(),
        )

    model = ModelBuilder(
        s3_model_data_url=params["ModelDataUrl"],
        image_uri=params["ModelImageUri"],
        role_arn=settings.role_arn,
        sagemaker_session=ctx.session,
        network=ctx.job_networking(),
        env_vars={
            "SAGEMAKER_PROGRAM": "inference.py",
            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
        },
    )
    create_model = ModelStep(name="CreateModel", step_args=model.build())

    input_uri = Join(on="", values=["s3://", params["InputBucket"], "/", params["InputKey"]])
    ground_truth_report = PropertyFile(
        name="GroundTruthStatus", output_name="status", path="ground_truth.json"
    )
    preprocess = ProcessingStep(
        name="PreprocessInference",
        step_args=processor("batchops-preprocess-inference").run(
            kms_key=ctx.upload_kms_key,
            # the step lists, claims and reads the batch itself (batchops.batches): a
            # ProcessingInput of the prefix would download every batch ever uploaded
            code=step_code(STEPS / "preprocess_inference.py"),
            outputs=[_s3_output(n, run_uri(n)) for n in ("batch", "ground_truth", "status")],
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
                params["KmsKeyArn"],
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
        output_path=run_uri("predictions"),
        output_kms_key=params["KmsKeyArn"],
        volume_kms_key=params["KmsKeyArn"],
        base_transform_job_name="batchops-transform",
        sagemaker_session=ctx.session,
    )
    transform = TransformStep(
        name="BatchTransform",
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
        "CheckDataQuality",
        outputs["batch"].S3Output.S3Uri,
        run_uri("data-quality"),
        baseline_statistics=params["BaselineStatistics"],
        baseline_constraints=params["BaselineConstraints"],
        baseline_folder=params.get("BaselineFolder"),
        model_package_arn=params["ModelPackageArn"],
        image=config["images"]["processing"],
        instance_type=instances["quality_check"],
    ).step

    model_quality = ProcessingStep(
        name="CheckModelQuality",
        step_args=processor("batchops-model-quality").run(
            kms_key=ctx.upload_kms_key,
            code=step_code(STEPS / "model_quality.py"),
            inputs=[
                _s3_input("predictions", predictions),
                _s3_input("ground_truth", outputs["ground_truth"].S3Output.S3Uri),
            ],
            outputs=[_s3_output("model_quality", run_uri("model-quality"))],
            arguments=["--mse-threshold", params["MseThreshold"].to_string()],
        ),
    )
    has_ground_truth = ConditionStep(
        name="CheckGroundTruth",
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
