terraform {
  # 1.11: S3-native state locking (use_lockfile) is generally available (hashicorp/terraform#36338).
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }

  # Partial configuration. The very first apply in an account has no bucket to keep its
  # state in yet: README "First apply" creates it with local state, then migrates the
  # state into the bucket it made (backend-<environment>.hcl).
  backend "s3" {}
}
