variable "environment" {
  description = "Environment the account serves; production's apply role is assumable only from the protected production environment."
  type        = string

  validation {
    condition     = contains(["data-science", "staging", "production"], var.environment)
    error_message = "environment must be data-science, staging or production."
  }
}

variable "account_id" {
  description = "12-digit id of this account."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the account's resources."
  type        = string
  default     = "us-east-1"
}

variable "gitlab_url" {
  description = "GitLab instance (OIDC issuer and the `aud` CI requests)."
  type        = string
}

variable "gitlab_project_path" {
  description = "Project path whose pipelines run Terraform (the settings' `gitlab_project`)."
  type        = string
}

variable "oidc_provider_arn" {
  description = "ARN of the account's GitLab OIDC provider."
  type        = string
}

variable "state_bucket_name" {
  description = "The account's Terraform state bucket."
  type        = string
}

variable "state_key_prefix" {
  description = "Prefix of the state objects the CI roles may read and lock (backend.hcl keys live under it)."
  type        = string
  default     = "batchops/"

  validation {
    condition     = can(regex("^[a-z0-9._-]+/$", var.state_key_prefix)) && var.state_key_prefix != "batchops/bootstrap/"
    error_message = "state_key_prefix must be one path segment ending in '/' (the bootstrap's own state stays out of CI's reach by being under batchops/bootstrap/, which is excluded)."
  }
}

variable "state_kms_key_arn" {
  description = "Key ARN of the state bucket's KMS key."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.state_kms_key_arn))
    error_message = "state_kms_key_arn must be a KMS key ARN."
  }
}

variable "data_bucket_name" {
  description = "The account's data bucket (the settings' `bucket_name`): the apply role manages it, the plan role may not read its objects."
  type        = string
}

variable "registry_account_id" {
  description = "Account of the central model registry and its key (staging and production look the key up there)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.registry_account_id))
    error_message = "registry_account_id must be a 12-digit AWS account id."
  }
}

variable "model_package_group_name" {
  description = "Name of the model package group (created in data-science)."
  type        = string
}

variable "plan_role_name" {
  description = "Name of the read-only plan role."
  type        = string
  default     = "batchops-terraform-plan"
}

variable "apply_role_name" {
  description = "Name of the apply role."
  type        = string
  default     = "batchops-terraform-apply"
}

variable "tags" {
  description = "Tags added to the roles."
  type        = map(string)
  default     = {}
}
