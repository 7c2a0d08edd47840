# The notification topic of the production account with two e-mail recipients.

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

module "notifications" {
  source = "../.."

  topic_name       = "batchops-production-notifications"
  kms_key_arn      = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  email_recipients = ["ml-engineering@example.com", "oncall@example.com"]
}

output "topic_arn" {
  description = "Value for BATCHOPS_TOPIC_ARN."
  value       = module.notifications.topic_arn
}
