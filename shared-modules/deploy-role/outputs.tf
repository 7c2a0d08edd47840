output "role_arn" {
  description = "ARN of the deploy role; CI jobs put it in AWS_ROLE_ARN."
  value       = aws_iam_role.this.arn
}

output "oidc_provider_arn" {
  description = "ARN of the GitLab OIDC provider the role trusts."
  value       = local.provider_arn
}

output "allowed_subjects" {
  description = "The `sub` claims allowed to assume the role."
  value       = local.subjects
}
