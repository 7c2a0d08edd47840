# terraform init -backend-config=backend.hcl  (state of the data-science account, in that account)
bucket       = "batchops-tfstate-111111111111"
key          = "batchops/data-science/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
