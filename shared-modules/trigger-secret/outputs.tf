output "secret_arn" {
  description = "ARN of the secret, for the approval Lambda's IAM policy."
  value       = aws_secretsmanager_secret.this.arn
}

output "secret_name" {
  description = "Name of the secret; the approval Lambda reads it from BATCHOPS_TRIGGER_SECRET_ID."
  value       = aws_secretsmanager_secret.this.name
}
