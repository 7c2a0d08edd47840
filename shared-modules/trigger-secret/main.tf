# Only the secret's container is managed here: the GitLab pipeline trigger token is put in
# by a maintainer (`aws secretsmanager put-secret-value`), so it never enters Terraform state,
# plans or CI logs. Only the listed roles (the approval Lambda) may read it.
locals {
  access_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyReadingToAllOtherPrincipals"
        Effect    = "Deny"
        Principal = { AWS = "*" }
        Action    = "secretsmanager:GetSecretValue"
        Resource  = "*"
        Condition = { StringNotLike = { "aws:PrincipalArn" = var.reader_role_arns } }
      },
    ]
  }
}

resource "aws_secretsmanager_secret" "this" {
  #checkov:skip=CKV2_AWS_57:A GitLab pipeline trigger token cannot be rotated by a Lambda; it is rotated in GitLab and put here by a maintainer (see README).
  name                    = var.secret_name
  description             = var.description
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_policy" "this" {
  secret_arn = aws_secretsmanager_secret.this.arn
  policy     = jsonencode(local.access_policy)
}
