variable "model_package_group_name" {
  description = "Name of the model package group (the central registry), the settings' `model_package_group_name`."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "model_package_group_name must be 1-63 letters, digits or hyphens, starting and ending with a letter or digit."
  }
}

variable "description" {
  description = "Description stored on the model package group."
  type        = string
  default     = "Central model registry: every account deploys versions registered here."

  validation {
    condition     = length(var.description) <= 1024
    error_message = "description must be at most 1024 characters."
  }
}

variable "reader_account_ids" {
  description = "Accounts (staging, production) that may describe and list the group's model packages to deploy them."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.reader_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every reader_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "evidence_writer_account_ids" {
  description = "Accounts (staging) that record promotion evidence on the group's versions (sagemaker:UpdateModelPackage: the staging run that production's deploy requires, batchops.promotion). Must also be readers."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.evidence_writer_account_ids : contains(var.reader_account_ids, id)])
    error_message = "Every evidence_writer_account_ids entry must also be in reader_account_ids."
  }
}

variable "tags" {
  description = "Tags added to the model package group."
  type        = map(string)
  default     = {}
}
