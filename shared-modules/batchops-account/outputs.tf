output "kms_key_arn" {
  description = "ARN of the account key."
  value       = module.kms_key.key_arn
}

output "kms_key" {
  description = "Alias ARN of the account key; the settings' `kms_key`."
  value       = module.kms_key.alias_arn
}

output "role_arn" {
  description = "ARN of the SageMaker execution role; the settings' `role_arn`."
  value       = module.sagemaker_execution_role.role_arn
}

output "bucket_name" {
  description = "Name of the data bucket."
  value       = module.data_bucket.bucket_name
}

output "topic_arn" {
  description = "ARN of the notification topic."
  value       = module.notifications.topic_arn
}

output "function_arns" {
  description = "ARN of each Lambda function by name."
  value       = { for name, f in module.functions : name => f.function_arn }
}

output "event_rule_arns" {
  description = "ARN of each event rule by name."
  value       = module.event_rules.rule_arns
}

output "deploy_role_arn" {
  description = "ARN of the role CI assumes to deploy into this account."
  value       = module.deploy_role.role_arn
}

output "model_package_group_arn" {
  description = "ARN of the central model package group (data-science only, null elsewhere)."
  value       = one(module.model_registry[*].model_package_group_arn)
}

output "schedule_arns" {
  description = "ARN of each pipeline schedule by name."
  value       = try(module.pipeline_schedules[0].schedule_arns, {})
}

output "deploy_role_subjects" {
  description = "The `sub` patterns of GitLab ID tokens the deploy role accepts."
  value       = module.deploy_role.allowed_subjects
}

output "deploy_role_audience" {
  description = "The `aud` of GitLab ID tokens the deploy role accepts (what CI's id_tokens request)."
  value       = module.deploy_role.audience
}

output "registry_kms_key_arn" {
  description = "Key ARN of the registry key this account decrypts model artefacts with (null in data-science)."
  value       = local.registry_kms_key_arn
}
