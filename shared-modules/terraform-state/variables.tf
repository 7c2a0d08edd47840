variable "bucket_name" {
  description = "Name of the state bucket, by convention `batchops-tfstate-<account id>` (the account roots' backend.hcl names it)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name)) && !can(regex("\\.\\.|^\\d+\\.\\d+\\.\\d+\\.\\d+$|^xn--|-s3alias$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, '.' or '-', start and end with a letter or digit, and not look like an IP address."
  }
}

variable "kms_key_arn" {
  description = "Key ARN of the customer-managed key that encrypts the state (default encryption; backend.hcl names the same ARN as kms_key_id)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten state version is kept (the way back after a bad apply)."
  type        = number
  default     = 365

  validation {
    condition     = var.noncurrent_version_expiration_days >= 30 && var.noncurrent_version_expiration_days <= 3650
    error_message = "noncurrent_version_expiration_days must be between 30 and 3650."
  }
}

variable "force_destroy" {
  description = "Allow `terraform destroy` to delete the bucket with its state versions (the local cloud only)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to the bucket (the provider's default_tags add the mandatory ones)."
  type        = map(string)
  default     = {}
}
