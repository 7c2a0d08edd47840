data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  region       = data.aws_region.current.name
  account_root = "arn:${local.partition}:iam::${local.account_id}:root"

  # Key administration without data access: the account's IAM decides who administers the
  # key, but only the roles in user_arns (and the services below) can use it on data.
  administration_actions = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
  ]
  usage_actions = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
  ]
}

locals {
  workload_roles = sort(distinct(var.user_arns))

  # In a key policy the resource "*" means "this key"; no other resource can be named.
  # Workload roles are matched by aws:PrincipalArn rather than named as principals, so the
  # key can be created before the roles exist (AWS rejects unknown role principals).
  # Statements are listed with the input that switches them on, then filtered.
  candidate_statements = [
    {
      include = true
      statement = {
        Sid       = "KeyAdministrationThroughAccountIam"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.administration_actions
        Resource  = "*"
      }
    },
    {
      include = length(local.workload_roles) > 0
      statement = {
        Sid       = "KeyUsageByWorkloadRoles"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = local.usage_actions
        Resource  = "*"
        Condition = { ArnEquals = { "aws:PrincipalArn" = local.workload_roles } }
      }
    },
    {
      include = length(local.workload_roles) > 0
      statement = {
        Sid       = "GrantsForAwsResourcesOnly"
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = "kms:CreateGrant"
        Resource  = "*"
        Condition = {
          Bool      = { "kms:GrantIsForAWSResource" = "true" }
          ArnEquals = { "aws:PrincipalArn" = local.workload_roles }
        }
      }
    },
    {
      include = length(var.service_principals) > 0
      statement = {
        Sid       = "ServicesOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = sort(distinct(var.service_principals)) }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      }
    },
    {
      include = var.allow_cloudwatch_logs
      statement = {
        Sid       = "CloudWatchLogsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
        Resource  = "*"
        Condition = {
          ArnLike = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*" }
        }
      }
    },
    {
      include = length(var.s3_decrypt_account_ids) > 0
      statement = {
        Sid       = "CrossAccountDecryptThroughS3"
        Effect    = "Allow"
        Principal = { AWS = [for id in sort(distinct(var.s3_decrypt_account_ids)) : "arn:${local.partition}:iam::${id}:root"] }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
        Condition = { StringEquals = { "kms:ViaService" = "s3.${local.region}.amazonaws.com" } }
      }
    },
  ]
  # Principals that use the key only through named AWS services (kms:ViaService), e.g. the
  # Terraform apply role, which creates the DynamoDB table, the Lambda functions' encrypted
  # environment, the SQS dead-letter queues and the secret with this key. The action list
  # is the one AWS managed keys (aws/dynamodb, aws/lambda, ...) grant through their service.
  via_service_statements = [
    for user in var.via_service_users : {
      include = length(user.principal_arns) > 0
      statement = {
        Sid       = user.sid
        Effect    = "Allow"
        Principal = { AWS = local.account_root }
        Action    = user.actions
        Resource  = "*"
        Condition = {
          ArnEquals    = { "aws:PrincipalArn" = sort(distinct(user.principal_arns)) }
          StringEquals = { "kms:ViaService" = sort([for s in user.services : "${s}.${local.region}.amazonaws.com"]) }
        }
      }
    }
  ]
  key_policy_statements = [for c in concat(local.candidate_statements, local.via_service_statements, [
    {
      # Terraform in staging and production finds this key by its alias ARN
      # (DescribeKey accepts an alias ARN of another account, KMS API reference); the
      # caller's IAM policy must allow it too.
      include = length(var.describe_account_ids) > 0
      statement = {
        Sid       = "DescribeFromOtherAccounts"
        Effect    = "Allow"
        Principal = { AWS = [for id in sort(distinct(var.describe_account_ids)) : "arn:${local.partition}:iam::${id}:root"] }
        Action    = "kms:DescribeKey"
        Resource  = "*"
      }
    },
  ]) : c.statement if c.include]
}

resource "aws_kms_key" "this" {
  description             = var.description
  key_usage               = "ENCRYPT_DECRYPT"
  deletion_window_in_days = var.deletion_window_in_days
  enable_key_rotation     = true
  policy                  = jsonencode({ Version = "2012-10-17", Statement = local.key_policy_statements })
  tags                    = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.alias_name}"
  target_key_id = aws_kms_key.this.key_id
}
