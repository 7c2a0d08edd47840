# The GitLab trigger-token secret of the data-science account, readable by the approval
# Lambda only. Put the value in afterwards:
#   aws secretsmanager put-secret-value --secret-id batchops/gitlab-trigger-token --secret-string "$TOKEN"

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

module "trigger_secret" {
  source = "../.."

  secret_name      = "batchops/gitlab-trigger-token"
  kms_key_arn      = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  reader_role_arns = ["arn:aws:iam::111111111111:role/batchops-approval-trigger"]
}

output "secret_arn" {
  description = "ARN of the secret."
  value       = module.trigger_secret.secret_arn
}
