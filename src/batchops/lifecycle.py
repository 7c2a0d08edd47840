"""The lifecycle contract both teams share, in one place.

model-build and model-deploy never import each other (the model registry is their
contract), but the platform around them — the events, ``deploy``, the demo, the report,
the notification settings — must name the same steps, parameters and files. Those names
live here, and every reader takes them from here instead of copying them or reading them
back out of failure messages:

* **step names** of the three pipelines (``TRAINING_STEPS``, ``INFERENCE_STEPS``);
* **parameter names** (``PARAMETERS``) the definitions declare and ``deploy`` stamps;
* **the S3 run layout**: ``<bucket_prefix>/<kind>/runs/<execution id>/<output>/``;
* **the model-quality verdict** (``quality.json``) the inference pipeline's
  ``CheckModelQuality`` step writes beside Model Monitor's files, and the training
  evaluation's document, read back by :func:`read_verdict`;
* **the model version's metadata** (``VERSION_METADATA``): which dataset, problem type,
  metric and threshold a registered version was trained for.

The step scripts run in SageMaker images without batchops, so they write these names as
plain constants; ``tests/test_lifecycle.py`` checks that every definition, script and
pattern agrees with this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.config import Settings

TRAINING_STEPS = {
    "preprocess": "PreprocessData",
    "baseline": "BaselineDataQuality",
    "train": "TrainModel",
    "tune": "TuneModel",
    "evaluate": "EvaluateModel",
    "gate": "CheckTestQuality",
    "fail": "FailOnTestQuality",
    "register": "RegisterModel",
}
INFERENCE_STEPS = {
    "create_model": "CreateModel",
    "preprocess": "PreprocessInference",
    "transform": "BatchTransform",
    "data_quality": "CheckDataQuality",
    "ground_truth": "CheckGroundTruth",
    "model_quality": "CheckModelQuality",
}
#: the step whose failure means "retrain" (events, the retrain trigger, the demo)
MODEL_QUALITY_STEP = INFERENCE_STEPS["model_quality"]

PARAMETERS = {
    "input_bucket": "InputBucket",
    "input_key": "InputKey",
    "quality_threshold": "QualityThreshold",
    "git_commit": "GitCommit",
    "user_id": "UserId",
    "model_package_arn": "ModelPackageArn",
    "model_image_uri": "ModelImageUri",
    "model_data_url": "ModelDataUrl",
    "baseline_statistics": "BaselineStatistics",
    "baseline_constraints": "BaselineConstraints",
    #: the folder of both baseline files (batchops' data-quality check; not Model Monitor's)
    "baseline_folder": "BaselineFolder",
    "kms_key_arn": "KmsKeyArn",
}

#: outputs of an inference run, each a folder under the run prefix
INFERENCE_OUTPUTS = {
    "batch": "batch",
    "ground_truth": "ground_truth",
    "status": "status",
    "predictions": "predictions",
    "data_quality": "data-quality",
    "model_quality": "model-quality",
}
#: outputs of a training run
TRAINING_OUTPUTS = {"preprocess": "preprocess", "evaluation": "evaluation"}
#: files inside those folders
GROUND_TRUTH_STATUS_FILE = "ground_truth.json"  #: {"present": bool, "rows": n}
BATCH_REPORT_FILE = "batch.json"  #: {"rows", "missing": {col: n}, "unseen": {col: {value: n}}}
VERDICT_FILE = "quality.json"  #: the model-quality verdict (see :class:`Verdict`)
EVALUATION_FILE = "evaluation.json"  #: Model Monitor statistics of the test split
DATASET_FILE = "dataset.json"  #: the spec document, inside model.tar.gz

#: CustomerMetadataProperties of a registered version (beside source, git_commit...)
VERSION_METADATA = ("dataset", "problem_type", "quality_metric", "quality_threshold")


def run_prefix(settings: Settings, kind: str, execution: str) -> str:
    """``<bucket_prefix>/<kind>/runs/<execution id>`` (``kind``: training or inference);
    ``execution`` is the execution id or its ARN."""
    if kind not in ("training", "inference"):
        raise ValueError(f"run kind is training or inference, not {kind!r}")
    execution_id = execution.rsplit("/", 1)[-1]
    return f"{settings.bucket_prefix.strip('/')}/{kind}/runs/{execution_id}"


def run_uri(settings: Settings, kind: str, execution: str, *parts: str) -> str:
    return "/".join([f"s3://{settings.bucket_name}", run_prefix(settings, kind, execution), *parts])


@dataclass(frozen=True)
class Verdict:
    """What model quality concluded: ``{"metric", "value", "threshold", "passed"}``."""

    metric: str
    value: float | None
    threshold: float
    passed: bool
    higher_is_better: bool = False
    rows: int | None = None
    problem_type: str | None = None
    #: {"training": ..., "batch": ...}: class shares, or a regression target's mean and std
    target_distribution: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "value": self.value,
            "threshold": self.threshold,
            "passed": self.passed,
            "higher_is_better": self.higher_is_better,
            "rows": self.rows,
            "problem_type": self.problem_type,
            "target_distribution": self.target_distribution,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Verdict:
        value = data.get("value")
        return cls(
            metric=str(data["metric"]),
            value=None if value is None else float(value),
            threshold=float(data["threshold"]),
            passed=bool(data["passed"]),
            higher_is_better=bool(data.get("higher_is_better", False)),
            rows=data.get("rows"),
            problem_type=data.get("problem_type"),
            target_distribution=data.get("target_distribution"),
        )


def read_verdict(clients: Clients, settings: Settings, execution_arn: str) -> Verdict | None:
    """The model-quality verdict of an inference run (None when it wrote none)."""
    from botocore.exceptions import ClientError

    from batchops.aws import read_s3_json

    uri = run_uri(
        settings, "inference", execution_arn, INFERENCE_OUTPUTS["model_quality"], VERDICT_FILE
    )
    try:
        return Verdict.from_json(read_s3_json(clients, uri))
    except (ClientError, KeyError, ValueError, TypeError):
        return None


def read_batch_report(
    clients: Clients, settings: Settings, execution_arn: str
) -> dict[str, Any] | None:
    """What PreprocessInference counted in a batch (missing values, unseen categories)."""
    from botocore.exceptions import ClientError

    from batchops.aws import read_s3_json

    uri = run_uri(
        settings, "inference", execution_arn, INFERENCE_OUTPUTS["status"], BATCH_REPORT_FILE
    )
    try:
        report = read_s3_json(clients, uri)
    except (ClientError, ValueError):
        return None
    return report if isinstance(report, dict) else None
