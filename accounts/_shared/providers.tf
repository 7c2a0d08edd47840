# Credentials come from the environment (GitLab OIDC -> AWS_ROLE_ARN + web identity token
# in CI); nothing static is configured here. allowed_account_ids makes a plan against the
# wrong account fail before it reads anything.
provider "aws" {
  region              = var.region
  allowed_account_ids = [var.account_id]

  default_tags {
    tags = {
      Project     = "batchops"
      Environment = var.environment
      Owner       = var.owner
      CostCenter  = var.cost_center
      ManagedBy   = "terraform"
    }
  }
}
