"""CloudWatch Logs: where SageMaker keeps the logs of its jobs."""
