# The bootstrap's own state in the staging account, next to the account root's (README, "First
# apply"). kms_key_id is passed on the command line from the output state_kms_key_arn.
bucket       = "batchops-tfstate-222222222222"
key          = "batchops/bootstrap/terraform.tfstate"
region       = "us-east-1"
encrypt      = true
use_lockfile = true
