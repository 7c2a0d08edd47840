terraform {
  # Roots pin exactly (modules take ranges); the lock file is committed next to each root.
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl` (one per account,
  # no secrets; S3 native locking with use_lockfile).
  backend "s3" {}
}
