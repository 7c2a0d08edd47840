"""Model-Monitor-compatible data- and model-quality engine.

Depends only on what a processing container has (polars, numpy): no boto3.
"""
