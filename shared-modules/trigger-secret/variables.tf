variable "secret_name" {
  description = "Name of the secret (the settings' `gitlab_trigger_secret_name`, `batchops/gitlab-trigger-token`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9/_+=.@-]{1,512}$", var.secret_name))
    error_message = "secret_name must be 1-512 letters, digits or /_+=.@- characters."
  }
}

variable "description" {
  description = "Description stored on the secret."
  type        = string
  default     = "GitLab pipeline trigger token used by the approval Lambda (value put in by a maintainer, never by Terraform)."
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the secret."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "reader_role_arns" {
  description = "The only roles allowed to read the value (the approval Lambda's role); everyone else is denied by the resource policy."
  type        = list(string)

  validation {
    condition     = length(var.reader_role_arns) > 0 && alltrue([for arn in var.reader_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", arn))])
    error_message = "reader_role_arns needs at least one IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can still be restored (0 deletes at once, otherwise 7 to 30)."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to the secret."
  type        = map(string)
  default     = {}
}
