"""The model-build team's project: SageMaker pipeline definitions and container step scripts."""
