# The notify function of one account from the zip `make build` wrote, with its own role,
# encrypted log group (one year) and dead-letter queue, allowed to publish to one topic.

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

module "notify" {
  source = "../.."

  function_name = "batchops-notify"
  handler       = "batchops.functions.notify.handler"
  filename      = "${path.root}/../../../../dist/functions/notify.zip"
  kms_key_arn   = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  environment_variables = {
    BATCHOPS_TOPIC_ARN   = "arn:aws:sns:us-east-1:111111111111:batchops-data-science-notifications"
    BATCHOPS_ENVIRONMENT = "data-science"
  }
  policy_statements = [{
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = ["arn:aws:sns:us-east-1:111111111111:batchops-data-science-notifications"]
  }]
}

output "function_arn" {
  description = "ARN of the function."
  value       = module.notify.function_arn
}
