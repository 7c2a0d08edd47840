"""Pipelines of the model-deploy project (registered through the batchops.pipelines entry point)."""
