output "policy_json" {
  description = "The trust policy document (JSON) for aws_iam_role.assume_role_policy."
  value       = jsonencode(local.policy)
}

output "subjects" {
  description = "The `sub` patterns (IAM StringLike) a token must match."
  value       = local.subjects
}

output "audience" {
  description = "The `aud` a token must carry; the OIDC provider must list it as a client id."
  value       = local.audience
}

output "condition_key_prefix" {
  description = "The issuer host IAM prefixes the claim condition keys with (`<host>:aud`, `<host>:sub`)."
  value       = local.oidc_host
}
