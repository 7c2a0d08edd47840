# terraform init -backend-config=backend.hcl  (state of the production account, in that account)
bucket       = "batchops-tfstate-333333333333"
key          = "batchops/production/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
