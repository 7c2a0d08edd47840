# The state bucket of one account, encrypted with a key of its own.

terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

module "state_key" {
  source = "../../../kms-key"

  alias_name = "batchops-tfstate"
}

module "state" {
  source = "../.."

  bucket_name = "batchops-tfstate-222222222222"
  kms_key_arn = module.state_key.key_arn
}

output "backend_bucket" {
  description = "Put this in backend.hcl as bucket."
  value       = module.state.bucket_name
}
