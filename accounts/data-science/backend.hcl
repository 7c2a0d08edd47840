# terraform init -backend-config=backend.hcl  (state of the data-science account, in that account)
# Written by the bootstrap: terraform -chdir=accounts/bootstrap output -raw account_backend_hcl
# (README "To your AWS accounts"). Until then init stops at "Invalid KMS Key ID" below.
bucket       = "batchops-tfstate-111111111111"
key          = "batchops/data-science/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
kms_key_id   = "REPLACE-with-the-bootstrap-output-state_kms_key_arn"
use_lockfile = true
