# The seed article's variables table under the Python settings' names (a test keeps the
# two in sync), then what a multi-account set-up adds. Values: terraform.tfvars.json.

variable "environment" {
  description = "Environment this account serves: data-science (holds the registry), staging or production."
  type        = string

  validation {
    condition     = contains(["data-science", "staging", "production"], var.environment)
    error_message = "environment must be data-science, staging or production."
  }
}

variable "account_id" {
  description = "12-digit id of this account (the provider's allowed_account_ids holds the same)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id."
  }
}

variable "region" {
  description = "AWS region of the account."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "registry_account_id" {
  description = "Account holding the central model registry (the data-science account)."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.registry_account_id))
    error_message = "registry_account_id must be a 12-digit AWS account id."
  }
}

variable "registry_kms_key_arn" {
  description = "Override of the registry (data-science) key ARN; null (the default, also in CI) looks it up by its alias ARN in the data-science account. Only the local cloud, which cannot describe another account's key, sets it."
  type        = string
  default     = null

  validation {
    condition     = var.registry_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.registry_kms_key_arn))
    error_message = "registry_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "workload_account_ids" {
  description = "Staging and production account ids, granted read on the registry, artefacts and the default bus (data-science only)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.workload_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every workload_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "promotion_evidence_account_ids" {
  description = "Accounts (staging) that record their inference runs on the registry's versions (promotion evidence production's deploy reads); data-science only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.promotion_evidence_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every promotion_evidence_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "bucket_name" {
  description = "S3 bucket that stores data, scripts and model artefacts."
  type        = string
}

variable "bucket_prefix" {
  description = "S3 prefix of the ML project inside the bucket."
  type        = string
}

variable "bucket_train_prefix" {
  description = "S3 prefix (under bucket_prefix) for training data."
  type        = string
}

variable "bucket_inf_prefix" {
  description = "S3 prefix (under bucket_prefix) for inference data and ground truth."
  type        = string
}

variable "notification_function_name" {
  description = "Lambda function that formats and sends notifications about SageMaker pipeline step status changes."
  type        = string
}

variable "custom_notification_config" {
  description = "Custom notification messages for specific pipeline steps when a specific step status is detected."
  type = list(object({
    step_name           = string
    step_status         = string
    step_custom_message = string
  }))
  default = []

  validation {
    condition     = alltrue([for c in var.custom_notification_config : contains(["Starting", "Executing", "Stopping", "Stopped", "Failed", "Succeeded"], c.step_status) && length(c.step_name) > 0 && length(c.step_custom_message) > 0])
    error_message = "Every custom_notification_config entry needs a step_name, a message and a step_status of Starting, Executing, Stopping, Stopped, Failed or Succeeded."
  }
}

variable "email_recipient" {
  description = "E-mail addresses that receive the pipeline step status notifications."
  type        = list(string)
}

variable "pipeline_inf" {
  description = "Name of the SageMaker batch inference pipeline."
  type        = string
}

variable "pipeline_train" {
  description = "Name of the SageMaker training pipeline."
  type        = string
}

variable "pipeline_trainwhpo" {
  description = "Name of the SageMaker training-with-HPO pipeline."
  type        = string
}

variable "model_package_group_name" {
  description = "Name of the model package group (the registry)."
  type        = string
}

variable "subnet_id" {
  description = "Subnet id for the SageMaker network configuration (optional)."
  type        = string
  default     = null
}

variable "sg_id" {
  description = "Security group id for the SageMaker network configuration (optional; required with subnet_id)."
  type        = string
  default     = null

  validation {
    condition     = (var.subnet_id == null) == (var.sg_id == null)
    error_message = "subnet_id and sg_id must be set together (or both left null)."
  }
}

variable "user_id" {
  description = "Id of the SageMaker user, added as a tag to the resources."
  type        = string

  validation {
    condition     = length(var.user_id) > 0
    error_message = "user_id must not be empty."
  }
}

variable "access_role_name" {
  description = "Role CI assumes through GitLab OIDC to deploy into this account."
  type        = string
  default     = "batchops-deploy"
}

variable "gitlab_url" {
  description = "GitLab instance: OIDC issuer of the deploy role and, unless gitlab_api_url is set, target of the approval Lambda."
  type        = string
}

variable "gitlab_api_url" {
  description = "Where the approval Lambda calls GitLab's API (pipeline trigger and read API) when that is not gitlab_url: a self-managed GitLab's private address, or the local cloud's GitLab stand-in (plain http only on 127.0.0.1 or localhost). Default (null): gitlab_url."
  type        = string
  default     = null

  validation {
    condition     = var.gitlab_api_url == null || can(regex("^(https://[a-z0-9.-]+|http://(127\\.0\\.0\\.1|localhost))(:[0-9]+)?(/[^?#]*)?$", var.gitlab_api_url))
    error_message = "gitlab_api_url must be an https:// URL (plain http only on 127.0.0.1 or localhost), without a query or fragment."
  }
}

variable "gitlab_project" {
  description = "GitLab project path of this monorepo."
  type        = string
}

variable "gitlab_trigger_secret_name" {
  description = "Secrets Manager secret holding the GitLab pipeline trigger token (data-science)."
  type        = string
  default     = "batchops/gitlab-trigger-token"
}

variable "deploy_allowed_refs" {
  description = "Refs whose CI jobs may assume the deploy role (production: only main, and only from the protected production environment)."
  type = list(object({
    ref_type = string
    ref      = string
  }))
  default = [{ ref_type = "branch", ref = "main" }]

  validation {
    condition     = var.environment != "production" || alltrue([for r in var.deploy_allowed_refs : r.ref_type == "branch" && r.ref == "main"])
    error_message = "The production deploy role may only be assumed from the protected main branch."
  }
}

variable "training_schedule" {
  description = "Schedule expression of the training pipeline (data-science), e.g. cron(0 6 ? * MON *); null for none."
  type        = string
  default     = null
}

variable "inference_schedule" {
  description = "Schedule expression of the inference pipeline (staging, production); null for none."
  type        = string
  default     = null
}

variable "sandbox" {
  description = "Sandbox mode (the local cloud): buckets and tables can be destroyed with their content, secrets deleted at once."
  type        = bool
  default     = false
}

variable "owner" {
  description = "Team owning the resources (mandatory Owner tag)."
  type        = string
  default     = "ml-platform"
}

variable "cost_center" {
  description = "Cost center charged for the resources (mandatory CostCenter tag)."
  type        = string
  default     = "ml"
}

variable "function_packages_dir" {
  description = "Folder of the Lambda zips; null means dist/functions of this repository (`make build`)."
  type        = string
  default     = null
}
