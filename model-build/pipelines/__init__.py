"""Pipelines of the model-build project (registered through the batchops.pipelines entry point)."""
