variable "role_name" {
  description = "Name of the role; the settings' `role_arn` ends in it (convention `batchops-<env>-sagemaker-execution`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "bucket_name" {
  description = "This account's data bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name."
  }
}

variable "bucket_prefixes" {
  description = "Key prefixes in the data bucket the pipelines read and write (the settings' `bucket_prefix`)."
  type        = list(string)

  validation {
    condition     = length(var.bucket_prefixes) > 0 && alltrue([for p in var.bucket_prefixes : length(trim(p, "/")) > 0 && !strcontains(p, "*")])
    error_message = "bucket_prefixes needs at least one non-empty prefix without wildcards."
  }
}

variable "artifact_sources" {
  description = "Buckets of other accounts to read model artefacts and step code from (the data-science bucket, for staging and production)."
  type = list(object({
    bucket_name = string
    prefixes    = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.artifact_sources : length(s.prefixes) > 0 && alltrue([for p in s.prefixes : length(trim(p, "/")) > 0 && !strcontains(p, "*")])])
    error_message = "Every artifact_sources entry needs at least one non-empty prefix without wildcards."
  }
}

variable "kms_key_arns" {
  description = "KMS keys the jobs encrypt and decrypt with (this account's key, and the registry account's key for artefacts)."
  type        = list(string)

  validation {
    condition     = length(var.kms_key_arns) > 0 && alltrue([for arn in var.kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", arn))])
    error_message = "kms_key_arns needs at least one KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "model_package_group_arn" {
  description = "ARN of the central model package group (possibly in another account)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:model-package-group/[a-z0-9-]+$", var.model_package_group_arn))
    error_message = "model_package_group_arn must be a SageMaker model package group ARN with a lower-case name."
  }
}

variable "registry_access" {
  description = "`register` where training pipelines create model versions (data-science), `read` where inference pipelines only resolve them."
  type        = string

  validation {
    condition     = contains(["register", "read"], var.registry_access)
    error_message = "registry_access must be \"register\" or \"read\"."
  }
}

variable "network" {
  description = "Subnets and security groups of SageMaker jobs (the settings' `subnet_id` / `sg_id`); null when jobs run without a VPC."
  type = object({
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    condition = var.network == null ? true : (
      length(var.network.subnet_ids) > 0 && length(var.network.security_group_ids) > 0 &&
      alltrue([for id in var.network.subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))]) &&
      alltrue([for id in var.network.security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    )
    error_message = "network needs at least one subnet-... id and one sg-... id."
  }
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}
