variable "topic_name" {
  description = "Name of the topic (convention `batchops-<env>-notifications`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,256}$", var.topic_name))
    error_message = "topic_name must be 1-256 letters, digits, '_' or '-' (FIFO topics are not used)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts messages at rest."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "email_recipients" {
  description = "E-mail addresses subscribed to the topic (the settings' `email_recipient`)."
  type        = list(string)

  validation {
    condition     = length(var.email_recipients) > 0 && alltrue([for e in var.email_recipients : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "email_recipients needs at least one e-mail address of the form name@domain.tld."
  }
}

variable "tags" {
  description = "Tags added to the topic."
  type        = map(string)
  default     = {}
}
