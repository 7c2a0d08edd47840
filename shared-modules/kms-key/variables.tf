variable "alias_name" {
  description = "Alias of the key without the `alias/` prefix, e.g. `batchops-staging`. Settings refer to the key through this alias ARN."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_-]{1,250}$", var.alias_name)) && !startswith(var.alias_name, "aws/")
    error_message = "alias_name must be 1-250 characters of letters, digits, '/', '_' or '-' and must not start with 'aws/' (reserved for AWS managed keys)."
  }
}

variable "description" {
  description = "Human-readable description stored on the key."
  type        = string
  default     = "batchops data key (S3, SageMaker, SNS, SQS, DynamoDB, Secrets Manager, CloudWatch Logs)"
}

variable "deletion_window_in_days" {
  description = "Days a scheduled deletion can still be cancelled (AWS allows 7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number from 7 to 30."
  }
}

variable "user_arns" {
  description = "IAM roles that may encrypt and decrypt with the key (workload roles: SageMaker execution, Lambda, deploy). Nobody else gets data access; administration stays with the account's IAM."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for arn in var.user_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "Every user_arns entry must be an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)."
  }
}

variable "service_principals" {
  description = "AWS service principals that may use the key on behalf of this account only (aws:SourceAccount), e.g. `events.amazonaws.com` for encrypted dead-letter queues."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.service_principals : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", p))])
    error_message = "Every service_principals entry must be a service principal such as events.amazonaws.com."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs encrypt this account's log groups in this region with the key (bound to the log group encryption context)."
  type        = bool
  default     = true
}

variable "s3_decrypt_account_ids" {
  description = "Other accounts that may decrypt objects through S3 only (kms:ViaService), e.g. staging and production reading model artefacts from the data-science bucket."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.s3_decrypt_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every s3_decrypt_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "via_service_users" {
  description = "Roles that may use the key only through the named AWS services (kms:ViaService <service>.<region>.amazonaws.com), e.g. the Terraform apply role creating encrypted DynamoDB tables, Lambda functions, SQS queues and secrets."
  type = list(object({
    sid            = string
    principal_arns = list(string)
    services       = list(string)
    actions        = list(string)
  }))
  default = []

  validation {
    condition = alltrue([
      for u in var.via_service_users :
      can(regex("^[A-Za-z0-9]+$", u.sid)) && length(u.services) > 0 && length(u.actions) > 0 &&
      alltrue([for arn in u.principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))]) &&
      alltrue([for s in u.services : can(regex("^[a-z0-9-]+$", s))]) &&
      alltrue([for a in u.actions : startswith(a, "kms:") && a != "kms:*"])
    ])
    error_message = "Every via_service_users entry needs an alphanumeric sid, IAM role ARNs, service names such as dynamodb, and named kms: actions (no kms:*)."
  }
}

variable "describe_account_ids" {
  description = "Other accounts that may call kms:DescribeKey on this key (Terraform in staging and production looks the data-science key up by its alias ARN)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.describe_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every describe_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "tags" {
  description = "Tags added to the key (the provider's default_tags add the mandatory ones)."
  type        = map(string)
  default     = {}
}
