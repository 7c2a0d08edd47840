# The CI Terraform roles of the staging account: plan from any branch (read-only), apply
# from main.

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

module "ci_roles" {
  source = "../.."

  environment              = "staging"
  account_id               = "222222222222"
  gitlab_url               = "https://gitlab.com"
  gitlab_project_path      = "ml/batchops"
  oidc_provider_arn        = "arn:aws:iam::222222222222:oidc-provider/gitlab.com"
  state_bucket_name        = "batchops-tfstate-222222222222"
  state_kms_key_arn        = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  data_bucket_name         = "batchops-staging-222222222222"
  registry_account_id      = "111111111111"
  model_package_group_name = "batchops-abalone"
}

output "gitlab_ci_variables" {
  description = "Set these as GitLab CI/CD variables."
  value = {
    STAGING_TF_PLAN_ROLE_ARN  = module.ci_roles.plan_role_arn
    STAGING_TF_APPLY_ROLE_ARN = module.ci_roles.apply_role_arn
  }
}
