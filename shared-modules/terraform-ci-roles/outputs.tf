output "plan_role_arn" {
  description = "ARN of the read-only plan role: the GitLab CI/CD variable <ACCOUNT>_TF_PLAN_ROLE_ARN."
  value       = aws_iam_role.plan.arn
}

output "apply_role_arn" {
  description = "ARN of the apply role: the GitLab CI/CD variable <ACCOUNT>_TF_APPLY_ROLE_ARN."
  value       = aws_iam_role.apply.arn
}

output "plan_subjects" {
  description = "The `sub` patterns the plan role accepts."
  value       = module.plan_trust.subjects
}

output "apply_subjects" {
  description = "The `sub` patterns the apply role accepts."
  value       = module.apply_trust.subjects
}
