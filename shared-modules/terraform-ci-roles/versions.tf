terraform {
  # Cross-variable validation needs 1.9; modules take a range, roots pin exactly.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }
}
