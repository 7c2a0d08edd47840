# The idempotency table of the staging account, encrypted with that account's key.

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

module "idempotency_table" {
  source = "../.."

  table_name  = "batchops-staging-idempotency"
  kms_key_arn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

output "table_name" {
  description = "Value for BATCHOPS_IDEMPOTENCY_TABLE."
  value       = module.idempotency_table.table_name
}
