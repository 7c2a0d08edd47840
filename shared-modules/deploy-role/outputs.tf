output "role_arn" {
  description = "ARN of the deploy role; CI jobs put it in AWS_ROLE_ARN."
  value       = aws_iam_role.this.arn
}

output "oidc_provider_arn" {
  description = "ARN of the GitLab OIDC provider the role trusts."
  value       = var.oidc_provider_arn
}

output "allowed_subjects" {
  description = "The `sub` claims allowed to assume the role."
  value       = module.trust.subjects
}

output "audience" {
  description = "The `aud` the role requires (the OIDC provider must list it as a client id)."
  value       = module.trust.audience
}
