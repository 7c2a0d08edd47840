"""The model-deploy project: the batch inference pipeline of staging and production.

Found by batchops through the ``batchops.pipelines`` entry point. It never imports
``model_build``: the central model registry is the only contract between the teams.
"""

from pathlib import Path

from batchops.pipelines.project import PipelineProject, PipelineSpec

project = PipelineProject(
    name="model-deploy",
    root=Path(__file__).resolve().parents[1],
    pipelines=(
        PipelineSpec(
            key="inference",
            name_setting="pipeline_inf",
            builder="model_deploy.pipelines.inference:build_inference",
            environments=("staging", "production"),
            description="model from the pinned approved version, batch transform, data and "
            "model quality checks",
        ),
    ),
)
