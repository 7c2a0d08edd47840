"""The training and training-with-HPO pipelines (SageMaker Python SDK 3.x).

Both share every step but the model fit::

    PreprocessData -> BaselineDataQuality -> TrainModel | TuneModel -> EvaluateModel
        -> CheckTestQuality -> RegisterModel (PendingManualApproval) | FailOnTestQuality

What depends on the data comes from the dataset spec (``batchops.data.spec``): its JSON
document is an asset of the definition (content-addressed, uploaded with the step
scripts) and an input of the preprocess step; the XGBoost objective follows the problem
type, the tuning objective is the validation score of its evaluation metric, and the gate
compares the spec's metric on the test split with ``QualityThreshold`` in the metric's
direction (at most for errors, at least for scores). Step and parameter names are the
lifecycle contract's (``batchops.lifecycle``).

Outputs of a run land under ``<bucket_prefix>/training/runs/<execution id>/``. The data
input is ``s3://<InputBucket>/<InputKey>`` — a batch file or a whole prefix — which is
what the S3 "Object Created" rule and ``batchops pipelines start`` pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from batchops import lifecycle
from batchops.data.spec import DatasetSpec, current_spec
from batchops.pipelines.build import BuildContext, code_prefix
from batchops.pipelines.data_quality import DataQualityStep, baseline_step
from batchops.pipelines.step_code import step_code

HERE = Path(__file__).resolve().parent
STEPS = HERE.parent / "steps"
PROCESSING_ROOT = "/opt/ml/processing"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Image(_Strict):
    framework: str
    version: str


class _Images(_Strict):
    processing: _Image
    training: _Image


class _Instances(_Strict):
    processing: str
    training: str
    quality_check: str


class _Split(_Strict):
    validation_fraction: float = Field(gt=0, lt=0.5)
    test_fraction: float = Field(gt=0, lt=0.5)
    seed: int


#: XGBoost hyperparameters that must be numbers (others, e.g. ``objective``, are strings).
NUMERIC_HYPERPARAMETERS = frozenset(
    {
        "num_round",
        "early_stopping_rounds",
        "max_depth",
        "eta",
        "min_child_weight",
        "subsample",
        "colsample_bytree",
        "gamma",
        "lambda",
        "alpha",
        "max_delta_step",
    }
)


def _numeric(values: dict[str, int | float | str]) -> dict[str, int | float | str]:
    for name, value in values.items():
        if name in NUMERIC_HYPERPARAMETERS and not isinstance(value, int | float):
            raise ValueError(f"{name} must be a number, got {value!r}")
    return values


class _Tuning(_Strict):
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"]
    max_jobs: int = Field(ge=1)
    max_parallel_jobs: int = Field(ge=1)
    #: None: the validation score of the problem type's evaluation metric (see tuning_objective)
    objective_metric: str | None = None
    metric_regex: str | None = None
    static: dict[str, int | float | str]
    integer_ranges: dict[str, tuple[int, int]]
    continuous_ranges: dict[str, tuple[float, float]]

    _numbers = field_validator("static")(_numeric)


class PipelineConfig(_Strict):
    """``config.yaml``: images, instances, split, approved hyperparameters, tuning budget."""

    images: _Images
    instances: _Instances
    split: _Split
    hyperparameters: dict[str, int | float | str]
    tuning: _Tuning

    _numbers = field_validator("hyperparameters")(_numeric)


def load_config(path: Path = HERE / "config.yaml") -> dict[str, Any]:
    """The validated pipeline configuration; a bad file is one line naming file and key."""
    from pydantic import ValidationError

    from batchops.errors import ConfigError

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: the pipeline configuration file is missing") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from None
    try:
        config = PipelineConfig.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {key}: {first['msg'].removeprefix('Value error, ')}") from None
    for name, (low, high) in {
        **config.tuning.integer_ranges,
        **config.tuning.continuous_ranges,
    }.items():
        if not low < high:
            raise ConfigError(f"{path}: tuning ranges {name}: [{low}, {high}] is empty")
    if config.tuning.max_parallel_jobs > config.tuning.max_jobs:
        raise ConfigError(f"{path}: tuning.max_parallel_jobs is above tuning.max_jobs")
    return config.model_dump(mode="json", exclude_none=True)


def tuning_objective(spec: DatasetSpec, tuning: dict[str, Any]) -> tuple[str, str]:
    """The tuning objective and the regex that reads it from ``train.py``'s log.

    By default the validation score XGBoost's early stopping watched — RMSE, log loss or
    multiclass log loss, all minimised — which ``train.py`` prints as
    ``validation-<metric>:<value>``; ``config.yaml`` may name another.
    """
    _objective, metric = spec.objective
    name = tuning.get("objective_metric") or f"validation:{metric}"
    regex = tuning.get("metric_regex") or f"validation-{metric}:([0-9\\.]+)"
    return name, regex


def _image(ctx: BuildContext, spec: dict[str, str], instance_type: str) -> str:
    from batchops.images import pinned_image_uri

    return pinned_image_uri(spec, ctx.settings.region, instance_type)


class _Builder:
    """Holds the parameters and shared objects while the steps are assembled."""

    def __init__(self, ctx: BuildContext, source: str) -> None:
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join
        from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString

        self.ctx = ctx
        self.source = source
        self.config = load_config()
        self.spec = current_spec()
        settings = ctx.settings
        names = lifecycle.PARAMETERS
        self.input_bucket = ParameterString(
            names["input_bucket"], default_value=settings.bucket_name
        )
        self.input_key = ParameterString(
            names["input_key"], default_value=settings.training_data_prefix
        )
        self.threshold = ParameterFloat(
            names["quality_threshold"],
            default_value=self.spec.threshold(settings.accuracy_mse_threshold),
        )
        self.git_commit = ParameterString(names["git_commit"], default_value="unknown")
        self.user_id = ParameterString(names["user_id"], default_value="unknown")
        self.kms_key = ctx.kms_key
        self.parameters = [
            self.input_bucket,
            self.input_key,
            self.threshold,
            self.kms_key,
            self.git_commit,
            self.user_id,
        ]
        self.dataset_uri = self._upload_dataset()
        self.run_prefix = Join(
            on="/",
            values=[
                "s3:/",
                settings.bucket_name,
                settings.bucket_prefix.strip("/"),
                "training/runs",
                ExecutionVariables.PIPELINE_EXECUTION_ID,
            ],
        )
        instances = self.config["instances"]
        self.processing_image = _image(
            ctx, self.config["images"]["processing"], instances["processing"]
        )
        self.training_image = _image(ctx, self.config["images"]["training"], instances["training"])

    def _upload_dataset(self) -> str:
        """The spec's JSON document as an asset beside the step scripts (by content)."""
        import json

        settings = self.ctx.settings
        document = self.spec.document(settings.accuracy_mse_threshold)
        body = json.dumps(document, indent=2, sort_keys=True).encode()
        import hashlib

        digest = hashlib.sha256(body).hexdigest()[:16]
        key = f"{code_prefix(settings)}/datasets/{self.spec.name}-{digest}/{lifecycle.DATASET_FILE}"
        self.ctx.session.boto_session.client("s3").put_object(
            Bucket=settings.bucket_name, Key=key, Body=body
        )
        return f"s3://{settings.bucket_name}/{key}"

    def run_uri(self, *parts: str) -> Any:
        from sagemaker.core.workflow.functions import Join

        return Join(on="/", values=[self.run_prefix, *parts])

    def processor(self, image: str, base_job_name: str) -> Any:
        from sagemaker.core.processing import ScriptProcessor

        return ScriptProcessor(
            role=self.ctx.settings.role_arn,
            image_uri=image,
            command=["python3"],
            instance_type=self.config["instances"]["processing"],
            instance_count=1,
            volume_kms_key=self.kms_key,
            output_kms_key=self.kms_key,
            base_job_name=base_job_name,
            sagemaker_session=self.ctx.session,
            network_config=self.ctx.processing_network(),
        )

    # ----- steps ---------------------------------------------------------------------
    def preprocess(self) -> Any:
        from sagemaker.core.shapes import (
            ProcessingInput,
            ProcessingOutput,
            ProcessingS3Input,
            ProcessingS3Output,
        )
        from sagemaker.core.workflow.functions import Join
        from sagemaker.mlops.workflow.steps import ProcessingStep

        data = Join(on="", values=["s3://", self.input_bucket, "/", self.input_key])
        outputs = [
            ProcessingOutput(
                output_name=name,
                s3_output=ProcessingS3Output(
                    s3_uri=self.run_uri("preprocess", name),
                    local_path=f"{PROCESSING_ROOT}/{name}",
                    s3_upload_mode="EndOfJob",
                ),
            )
            for name in ("train", "validation", "test", "baseline", "transform")
        ]
        split = self.config["split"]
        step_args = self.processor(self.processing_image, "batchops-preprocess").run(
            kms_key=self.ctx.upload_kms_key,
            code=str(STEPS / "preprocess.py"),
            inputs=[
                ProcessingInput(
                    input_name=name,
                    s3_input=ProcessingS3Input(
                        s3_uri=uri,
                        local_path=f"{PROCESSING_ROOT}/input/{name}",
                        s3_data_type="S3Prefix",
                        s3_input_mode="File",
                    ),
                )
                for name, uri in (("data", data), ("dataset", self.dataset_uri))
            ],
            outputs=outputs,
            arguments=[
                "--validation-fraction",
                str(split["validation_fraction"]),
                "--test-fraction",
                str(split["test_fraction"]),
                "--seed",
                str(split["seed"]),
            ],
        )
        return ProcessingStep(name=lifecycle.TRAINING_STEPS["preprocess"], step_args=step_args)

    def baseline(self, preprocess: Any) -> DataQualityStep:
        """Statistics and constraints of the training features (skip_check=True,
        register_new_baseline=True), run by the engine ``data_quality_engine`` names."""
        outputs = preprocess.properties.ProcessingOutputConfig.Outputs
        return baseline_step(
            self.ctx,
            lifecycle.TRAINING_STEPS["baseline"],
            outputs["baseline"].S3Output.S3Uri,
            self.run_uri("data-quality-baseline"),
            image=self.config["images"]["processing"],
            instance_type=self.config["instances"]["quality_check"],
        )

    def trainer(self, hyperparameters: dict[str, Any] | None) -> Any:
        from sagemaker.core.shapes import OutputDataConfig
        from sagemaker.train.configs import Compute, SourceCode
        from sagemaker.train.model_trainer import ModelTrainer

        return ModelTrainer(
            training_image=self.training_image,
            source_code=SourceCode(source_dir=str(STEPS), entry_script="train.py"),
            compute=Compute(
                instance_type=self.config["instances"]["training"],
                instance_count=1,
                volume_kms_key_id=self.kms_key,
            ),
            networking=self.ctx.job_networking(),
            hyperparameters={k: str(v) for k, v in (hyperparameters or {}).items()},
            role=self.ctx.settings.role_arn,
            base_job_name="batchops-train",
            output_data_config=OutputDataConfig(
                s3_output_path=self.ctx.s3("training", "models"),
                kms_key_id=self.kms_key,
            ),
            sagemaker_session=self.ctx.session,
        )

    def channels(self, preprocess: Any) -> dict[str, Any]:
        outputs = preprocess.properties.ProcessingOutputConfig.Outputs
        return {name: outputs[name].S3Output.S3Uri for name in ("train", "validation", "transform")}

    def train(self, preprocess: Any) -> tuple[Any, Any]:
        from sagemaker.mlops.workflow.steps import TrainingStep
        from sagemaker.train.configs import InputData

        trainer = self.trainer(self.config["hyperparameters"])
        step_args = trainer.train(
            input_data_config=[
                InputData(channel_name=name, data_source=uri)
                for name, uri in self.channels(preprocess).items()
            ]
        )
        step = TrainingStep(name=lifecycle.TRAINING_STEPS["train"], step_args=step_args)
        return step, step.properties.ModelArtifacts.S3ModelArtifacts

    def tune(self, preprocess: Any) -> tuple[Any, Any]:
        from sagemaker.core.parameter import ContinuousParameter, IntegerParameter
        from sagemaker.mlops.workflow.steps import TuningStep
        from sagemaker.train.tuner import HyperparameterTuner

        tuning = self.config["tuning"]
        objective, regex = tuning_objective(self.spec, tuning)
        ranges: dict[str, Any] = {
            name: IntegerParameter(low, high)
            for name, (low, high) in tuning["integer_ranges"].items()
        }
        ranges.update(
            {
                name: ContinuousParameter(low, high)
                for name, (low, high) in tuning["continuous_ranges"].items()
            }
        )
        tuner = HyperparameterTuner(
            model_trainer=self.trainer(tuning["static"]),
            objective_metric_name=objective,
            hyperparameter_ranges=ranges,
            metric_definitions=[{"Name": objective, "Regex": regex}],
            strategy=tuning["strategy"],
            objective_type="Minimize",
            max_jobs=tuning["max_jobs"],
            max_parallel_jobs=tuning["max_parallel_jobs"],
            base_tuning_job_name="batchops-tune",
        )
        step = TuningStep(
            name=lifecycle.TRAINING_STEPS["tune"],
            step_args=tuner.tune(inputs=self.channels(preprocess)),
        )
        prefix = f"{self.ctx.settings.bucket_prefix.strip('/')}/training/models"
        return step, step.get_top_model_s3_uri(top_k=0, s3_bucket=self.ctx.bucket, prefix=prefix)

    def evaluate(self, preprocess: Any, model_data: Any) -> tuple[Any, Any]:
        from sagemaker.core.shapes import (
            ProcessingInput,
            ProcessingOutput,
            ProcessingS3Input,
            ProcessingS3Output,
        )
        from sagemaker.core.workflow.properties import PropertyFile
        from sagemaker.mlops.workflow.steps import ProcessingStep

        report = PropertyFile(
            name="EvaluationReport", output_name="evaluation", path=lifecycle.EVALUATION_FILE
        )
        test = preprocess.properties.ProcessingOutputConfig.Outputs["test"].S3Output.S3Uri
        step_args = self.processor(self.training_image, "batchops-evaluate").run(
            kms_key=self.ctx.upload_kms_key,
            code=step_code(STEPS / "evaluate.py"),
            inputs=[
                ProcessingInput(
                    input_name=name,
                    s3_input=ProcessingS3Input(
                        s3_uri=uri,
                        local_path=f"{PROCESSING_ROOT}/{name}",
                        s3_data_type="S3Prefix",
                        s3_input_mode="File",
                    ),
                )
                for name, uri in (("model", model_data), ("test", test))
            ],
            outputs=[
                ProcessingOutput(
                    output_name="evaluation",
                    s3_output=ProcessingS3Output(
                        s3_uri=self.run_uri("evaluation"),
                        local_path=f"{PROCESSING_ROOT}/evaluation",
                        s3_upload_mode="EndOfJob",
                    ),
                )
            ],
            arguments=["--threshold", self.threshold.to_string()],
        )
        step = ProcessingStep(
            name=lifecycle.TRAINING_STEPS["evaluate"], step_args=step_args, property_files=[report]
        )
        return step, report

    def register(self, baseline: DataQualityStep, evaluate: Any, model_data: Any) -> Any:
        from sagemaker.core.drift_check_baselines import DriftCheckBaselines
        from sagemaker.core.model_metrics import MetricsSource, ModelMetrics
        from sagemaker.core.workflow.execution_variables import ExecutionVariables
        from sagemaker.core.workflow.functions import Join
        from sagemaker.mlops.workflow.model_step import ModelStep
        from sagemaker.serve.model_builder import ModelBuilder

        settings = self.ctx.settings
        evaluation_uri = Join(
            on="/",
            values=[
                evaluate.properties.ProcessingOutputConfig.Outputs["evaluation"].S3Output.S3Uri,
                lifecycle.EVALUATION_FILE,
            ],
        )

        def source(uri: Any) -> Any:
            return MetricsSource(content_type="application/json", s3_uri=uri)

        # the training features' baseline, registered twice as AWS's samples do: as the
        # version's data-quality metrics and as the drift-check baseline inference uses
        metrics = ModelMetrics(
            model_statistics=source(evaluation_uri),
            model_data_statistics=source(baseline.statistics_uri),
            model_data_constraints=source(baseline.constraints_uri),
        )
        baselines = DriftCheckBaselines(
            model_data_statistics=source(baseline.statistics_uri),
            model_data_constraints=source(baseline.constraints_uri),
        )
        builder = ModelBuilder(
            s3_model_data_url=model_data,
            image_uri=self.training_image,
            role_arn=settings.role_arn,
            sagemaker_session=self.ctx.session,
            env_vars={
                "SAGEMAKER_PROGRAM": "inference.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
            },
        )
        step_args = builder.register(
            model_package_group_name=settings.model_package_group_name,
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_metrics=metrics,
            drift_check_baselines=baselines,
            approval_status="PendingManualApproval",
            description=(
                f"{self.spec.name}: {self.spec.problem_type} of {self.spec.target.name} "
                f"from the {self.source} pipeline"
            ),
            customer_metadata_properties={
                "source": self.source,
                "dataset": self.spec.name,
                "problem_type": self.spec.problem_type,
                "quality_metric": self.spec.quality.metric,
                # no threshold in the spec: each environment's accuracy_mse_threshold (AWS
                # refuses an empty metadata value, so the setting is named)
                "quality_threshold": (
                    "accuracy_mse_threshold"
                    if self.spec.quality.threshold is None
                    else f"{self.spec.quality.threshold:g}"
                ),
                "pipeline_execution_arn": ExecutionVariables.PIPELINE_EXECUTION_ARN,
                "git_commit": self.git_commit,
                "user_id": self.user_id,
            },
        )
        return ModelStep(name=lifecycle.TRAINING_STEPS["register"], step_args=step_args)

    def gate(self, evaluate: Any, report: Any, register: Any) -> Any:
        """The spec's metric on the test split against ``QualityThreshold``, in its direction."""
        from sagemaker.core.workflow.conditions import (
            ConditionGreaterThanOrEqualTo,
            ConditionLessThanOrEqualTo,
        )
        from sagemaker.core.workflow.functions import Join, JsonGet
        from sagemaker.mlops.workflow.condition_step import ConditionStep
        from sagemaker.mlops.workflow.fail_step import FailStep

        from batchops.monitor.classification import metric_location

        metric = self.spec.quality.spec
        block, key = metric_location(self.spec.problem_type, metric.name)
        value = JsonGet(
            step_name=evaluate.name, property_file=report, json_path=f"{block}.{key}.value"
        )
        higher = metric.higher_is_better
        fail = FailStep(
            name=lifecycle.TRAINING_STEPS["fail"],
            error_message=Join(
                on=" ",
                values=[
                    f"Test {metric.name}",
                    value,
                    "is below the threshold" if higher else "is above the threshold",
                    self.threshold,
                ],
            ),
        )
        condition = ConditionGreaterThanOrEqualTo if higher else ConditionLessThanOrEqualTo
        return ConditionStep(
            name=lifecycle.TRAINING_STEPS["gate"],
            conditions=[condition(left=value, right=self.threshold)],
            if_steps=[register],
            else_steps=[fail],
        )


def _pipeline(ctx: BuildContext, source: str) -> Any:
    from sagemaker.mlops.workflow.pipeline import Pipeline

    builder = _Builder(ctx, source)
    preprocess = builder.preprocess()
    baseline = builder.baseline(preprocess)
    fit, model_data = builder.tune(preprocess) if source == "hpo" else builder.train(preprocess)
    fit.add_depends_on([baseline.step])
    evaluate, report = builder.evaluate(preprocess, model_data)
    register = builder.register(baseline, evaluate, model_data)
    gate = builder.gate(evaluate, report, register)
    return Pipeline(
        name=ctx.pipeline_name,
        parameters=builder.parameters,
        steps=[preprocess, baseline.step, fit, evaluate, gate],
        sagemaker_session=ctx.session,
    )


def build_training(ctx: BuildContext) -> Any:
    return _pipeline(ctx, "training")


def build_hpo(ctx: BuildContext) -> Any:
    return _pipeline(ctx, "hpo")
