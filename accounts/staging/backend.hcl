# terraform init -backend-config=backend.hcl  (state of the staging account, in that account)
bucket       = "batchops-tfstate-222222222222"
key          = "batchops/staging/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
