"""batchops: MLOps for SageMaker batch inference across data-science, staging and production.

The package is the shared platform both teams build on: typed settings, the dataset
schema, the Model-Monitor-compatible quality engine, the model registry rules, the
Lambda handlers, and the local cloud that runs the same pipeline definitions offline.
"""

__version__ = "0.1.0"
