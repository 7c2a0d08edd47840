"""What a SageMaker container is on this machine: warm zygotes and the transform host."""
