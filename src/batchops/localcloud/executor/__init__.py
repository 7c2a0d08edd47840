"""The pipeline executor: runs the definition JSON stored by CreatePipeline/UpdatePipeline."""
