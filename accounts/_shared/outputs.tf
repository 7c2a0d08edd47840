output "role_arn" {
  description = "The settings' `role_arn`: the SageMaker execution role."
  value       = module.account.role_arn
}

output "kms_key" {
  description = "The settings' `kms_key`: alias ARN of the account key."
  value       = module.account.kms_key
}

output "kms_key_arn" {
  description = "Key ARN of the account key (staging and production look data-science's up by its alias ARN)."
  value       = module.account.kms_key_arn
}

output "bucket_name" {
  description = "The settings' `bucket_name`."
  value       = module.account.bucket_name
}

output "deploy_role_arn" {
  description = "Role CI assumes through GitLab OIDC (AWS_ROLE_ARN of this environment)."
  value       = module.account.deploy_role_arn
}

output "function_arns" {
  description = "Lambda functions by name."
  value       = module.account.function_arns
}

output "event_rule_arns" {
  description = "Event rules by name."
  value       = module.account.event_rule_arns
}

output "model_package_group_arn" {
  description = "Central model package group (data-science only)."
  value       = module.account.model_package_group_arn
}

output "schedule_arns" {
  description = "Pipeline schedules by name."
  value       = module.account.schedule_arns
}
