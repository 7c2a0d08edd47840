"""SageMaker: pipeline executions (run by the executor) and the model registry."""
