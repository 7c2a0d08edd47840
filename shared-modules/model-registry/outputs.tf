output "model_package_group_name" {
  description = "Name of the model package group."
  value       = aws_sagemaker_model_package_group.this.model_package_group_name
}

output "model_package_group_arn" {
  description = "ARN of the model package group."
  value       = aws_sagemaker_model_package_group.this.arn
}

output "model_packages_arn_pattern" {
  description = "ARN pattern matching every model package (version) of the group, for IAM policies."
  value       = local.model_packages_arn
}
