# A weekly training run in the data-science account, Monday 06:00 Berlin time.

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

module "pipeline_schedules" {
  source = "../.."

  role_name   = "batchops-data-science-scheduler"
  kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  schedules = {
    batchops-data-science-training-schedule = {
      description  = "Weekly retraining on the data collected so far."
      expression   = "cron(0 6 ? * MON *)"
      timezone     = "Europe/Berlin"
      pipeline_arn = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training"
    }
  }
}

output "schedule_arns" {
  description = "ARN of each schedule."
  value       = module.pipeline_schedules.schedule_arns
}
