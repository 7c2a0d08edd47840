# The execution role of the staging account's inference pipeline: it reads the registered
# versions of the central registry and their artefacts in the data-science bucket.

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

module "sagemaker_execution_role" {
  source = "../.."

  role_name       = "batchops-staging-sagemaker-execution"
  bucket_name     = "batchops-staging-222222222222"
  bucket_prefixes = ["pipeline_shared/batch-scoring"]
  kms_key_arns = [
    "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
  ]
  model_package_group_arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone"
  registry_access         = "read"
  artifact_sources = [
    { bucket_name = "batchops-data-science-111111111111", prefixes = ["pipeline_shared/batch-scoring"] },
  ]
}

output "role_arn" {
  description = "Put this ARN in the staging settings' role_arn."
  value       = module.sagemaker_execution_role.role_arn
}
