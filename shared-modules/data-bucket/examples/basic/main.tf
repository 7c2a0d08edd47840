# A data bucket for one account, encrypted with a key of the same account, readable by
# the staging account under the model artefact prefix.

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

module "kms_key" {
  source = "../../../kms-key"

  alias_name = "batchops-example"
}

module "data_bucket" {
  source = "../.."

  bucket_name = "batchops-example-111111111111"
  kms_key_arn = module.kms_key.key_arn
  cross_account_readers = [
    { account_id = "222222222222", prefixes = ["pipeline_shared/batch-scoring/models"] },
  ]
  expiring_prefixes = [{ prefix = "tmp", days = 7 }]
}

output "bucket_arn" {
  description = "ARN of the example bucket."
  value       = module.data_bucket.bucket_arn
}
