"""KMS as the local cloud extends it: grants."""
