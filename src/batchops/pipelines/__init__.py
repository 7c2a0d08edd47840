"""Pipeline projects, definition builds (SageMaker SDK), upsert and executions."""
