# The production deploy role: only pipelines of ml/batchops on the protected main branch of
# gitlab.com can assume it, with permissions to update the inference pipeline.

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

module "deploy_role" {
  source = "../.."

  environment         = "production"
  gitlab_url          = "https://gitlab.com"
  gitlab_project_path = "ml/batchops"
  policy_statements = [{
    sid       = "ManageInferencePipeline"
    actions   = ["sagemaker:CreatePipeline", "sagemaker:UpdatePipeline", "sagemaker:DescribePipeline"]
    resources = ["arn:aws:sagemaker:us-east-1:333333333333:pipeline/batchops-inference"]
  }]
}

output "role_arn" {
  description = "Put this in the production environment's AWS_ROLE_ARN CI variable."
  value       = module.deploy_role.role_arn
}
