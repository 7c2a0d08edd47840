"""The model-deploy team's project: SageMaker pipeline definitions and container step scripts."""
