# Credentials of an administrator of the account being bootstrapped (an SSO profile); CI
# cannot run this root, since it creates what CI authenticates with. allowed_account_ids
# makes an apply with another account's credentials fail before it reads anything.
provider "aws" {
  region              = local.account.region
  allowed_account_ids = [local.account.account_id]

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
