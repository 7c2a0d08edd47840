terraform {
  # Roots pin exactly (modules take ranges); the lock file is committed next to each root.
  # 1.11: the S3 backend's native lock file (use_lockfile) is generally available from 1.11
  # (hashicorp/terraform#36338); CI runs 1.11.4.
  required_version = ">= 1.11.0"

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
