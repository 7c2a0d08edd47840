output "role_name" {
  description = "Name of the execution role."
  value       = aws_iam_role.this.name
}

output "role_arn" {
  description = "ARN of the execution role; the settings' `role_arn`."
  value       = aws_iam_role.this.arn
}
