# The production deploy role: only a job of ml/batchops on main that runs in the protected
# production environment of gitlab.com can assume it, with permissions to update the
# inference pipeline. The account's OIDC provider comes from accounts/bootstrap.

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

data "aws_iam_openid_connect_provider" "gitlab" {
  url = "https://gitlab.com"
}

module "deploy_role" {
  source = "../.."

  environment         = "production"
  gitlab_url          = "https://gitlab.com"
  gitlab_project_path = "ml/batchops"
  oidc_provider_arn   = data.aws_iam_openid_connect_provider.gitlab.arn

  protected_environment_tier = "production"
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
