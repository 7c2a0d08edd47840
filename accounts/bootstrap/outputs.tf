output "oidc_provider_arn" {
  description = "The account's GitLab OIDC provider (the account roots read it as data)."
  value       = aws_iam_openid_connect_provider.gitlab.arn
}

output "state_bucket" {
  description = "The account's Terraform state bucket."
  value       = module.state_bucket.bucket_name
}

output "state_kms_key_arn" {
  description = "Key ARN of the state key (backend.hcl kms_key_id)."
  value       = module.state_key.key_arn
}

output "account_backend_hcl" {
  description = "The account root's accounts/<environment>/backend.hcl: write it there and commit it."
  value       = <<-EOT
    # terraform init -backend-config=backend.hcl  (written from `terraform -chdir=accounts/bootstrap output -raw account_backend_hcl`)
    bucket       = "${module.state_bucket.bucket_name}"
    key          = "batchops/${var.environment}/terraform.tfstate"
    region       = "${local.account.region}"
    encrypt      = true
    kms_key_id   = "${module.state_key.key_arn}"
    use_lockfile = true
  EOT
}

output "gitlab_ci_variables" {
  description = "GitLab CI/CD variables of this account's Terraform jobs (role ARNs, not secrets)."
  value = {
    "${upper(replace(var.environment, "-", "_"))}_TF_PLAN_ROLE_ARN"  = module.ci_roles.plan_role_arn
    "${upper(replace(var.environment, "-", "_"))}_TF_APPLY_ROLE_ARN" = module.ci_roles.apply_role_arn
  }
}
