# A customer-managed key for one account: the deploy role and the SageMaker execution
# role may use it, CloudWatch Logs may encrypt log groups with it, and two other accounts
# may decrypt objects through S3 (model artefacts read by staging and production).

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
  source = "../.."

  alias_name = "batchops-example"
  user_arns = [
    "arn:aws:iam::111111111111:role/batchops-deploy",
    "arn:aws:iam::111111111111:role/batchops-example-sagemaker-execution",
  ]
  service_principals     = ["events.amazonaws.com"]
  s3_decrypt_account_ids = ["222222222222", "333333333333"]
}

output "kms_key_alias_arn" {
  description = "Alias ARN to put in the settings' kms_key."
  value       = module.kms_key.alias_arn
}
