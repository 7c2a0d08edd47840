# The trust policy of the production deploy role: only a job of ml/batchops on main that
# runs in a protected environment of the production tier may assume it.

terraform {
  required_version = ">= 1.9.0"
}

module "trust" {
  source = "../.."

  gitlab_url                 = "https://gitlab.com"
  oidc_provider_arn          = "arn:aws:iam::333333333333:oidc-provider/gitlab.com"
  gitlab_project_path        = "ml/batchops"
  protected_environment_tier = "production"
}

output "assume_role_policy" {
  description = "Put this in the role's assume_role_policy."
  value       = module.trust.policy_json
}
