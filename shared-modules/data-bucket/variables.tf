variable "bucket_name" {
  description = "Globally unique bucket name; the settings' `bucket_name` (convention `batchops-<env>-<account>`)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, '.' or '-', start and end with a letter or digit, and not look like an IP address."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every object (the bucket policy refuses uploads under any other key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); aliases and AWS managed keys are not accepted."
  }
}

variable "eventbridge_notifications" {
  description = "Send S3 events to EventBridge (new data under the training or inference prefix starts a pipeline)."
  type        = bool
  default     = true
}

variable "noncurrent_version_expiration_days" {
  description = "Days a replaced or deleted object version is kept before it expires."
  type        = number
  default     = 90

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 1 and 3650."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which unfinished multipart uploads are removed."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && var.abort_incomplete_multipart_upload_days <= 365
    error_message = "abort_incomplete_multipart_upload_days must be between 1 and 365."
  }
}

variable "expiring_prefixes" {
  description = "Key prefixes whose current objects expire after a number of days (scratch output, transient batch results)."
  type = list(object({
    prefix = string
    days   = number
  }))
  default = []

  validation {
    condition     = alltrue([for rule in var.expiring_prefixes : length(rule.prefix) > 0 && rule.days >= 1])
    error_message = "Every expiring_prefixes entry needs a non-empty prefix and at least 1 day."
  }
}

variable "cross_account_readers" {
  description = "Accounts that may read (GetObject, ListBucket) under the given prefixes, e.g. staging and production reading the registered model artefacts."
  type = list(object({
    account_id = string
    prefixes   = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for reader in var.cross_account_readers : can(regex("^[0-9]{12}$", reader.account_id)) && length(reader.prefixes) > 0])
    error_message = "Every cross_account_readers entry needs a 12-digit account_id and at least one prefix."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete a bucket that still holds objects (keep false outside sandboxes)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
