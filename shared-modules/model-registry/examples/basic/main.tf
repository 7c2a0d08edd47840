# The central registry in the data-science account, readable by staging and production.

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

module "model_registry" {
  source = "../.."

  model_package_group_name = "batchops-abalone"
  reader_account_ids       = ["222222222222", "333333333333"]
}

output "model_package_group_arn" {
  description = "ARN of the registry group."
  value       = module.model_registry.model_package_group_arn
}
