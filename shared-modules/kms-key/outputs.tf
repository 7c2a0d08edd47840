output "key_arn" {
  description = "ARN of the key (use it in IAM policies and resource encryption settings)."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the key."
  value       = aws_kms_key.this.key_id
}

output "alias_name" {
  description = "Alias name, `alias/<alias_name>`."
  value       = aws_kms_alias.this.name
}

output "alias_arn" {
  description = "Alias ARN; the Python settings' `kms_key` holds this value."
  value       = aws_kms_alias.this.arn
}
