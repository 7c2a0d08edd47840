"""The model-build project: the data-science account's training pipelines.

Found by batchops through the ``batchops.pipelines`` entry point; builders are named by
dotted path so the SageMaker SDK is imported only when a definition is generated.
"""

from pathlib import Path

from batchops.pipelines.project import PipelineProject, PipelineSpec

project = PipelineProject(
    name="model-build",
    root=Path(__file__).resolve().parents[1],
    reads_dataset_spec=True,
    pipelines=(
        PipelineSpec(
            key="training",
            name_setting="pipeline_train",
            builder="model_build.pipelines.training:build_training",
            environments=("data-science",),
            description="preprocess, baseline, train (fixed hyperparameters), evaluate, register",
        ),
        PipelineSpec(
            key="hpo",
            name_setting="pipeline_trainwhpo",
            builder="model_build.pipelines.training:build_hpo",
            environments=("data-science",),
            description="the training pipeline with a Bayesian hyperparameter tuning step",
        ),
    ),
)
