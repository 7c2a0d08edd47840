variable "schedules" {
  description = "Schedules by name (convention `batchops-<env>-training-schedule` / `-inference-schedule`): a cron() or rate() expression, its time zone, the pipeline ARN to start, static pipeline parameters, whether it is enabled, and optionally the ARN of a Lambda function that starts the pipeline instead (batchops-pipeline-trigger: it refuses a run while the pinned model version is not approved, one run per scheduled time)."
  type = map(object({
    description  = string
    expression   = string
    timezone     = optional(string, "UTC")
    pipeline_arn = string
    parameters   = optional(map(string), {})
    enabled      = optional(bool, true)
    function_arn = optional(string)
  }))

  validation {
    condition     = length(var.schedules) > 0 && alltrue([for name in keys(var.schedules) : can(regex("^[0-9a-zA-Z._-]{1,64}$", name))])
    error_message = "schedules needs at least one entry; names must be 1-64 letters, digits, '.', '_' or '-'."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^(cron\\(.+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)|at\\(.+\\))$", s.expression))])
    error_message = "Every expression must be cron(...), rate(<n> <unit>) or at(...), e.g. cron(0 6 ? * MON *)."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:pipeline/[a-z0-9-]+$", s.pipeline_arn))])
    error_message = "Every pipeline_arn must be arn:aws:sagemaker:<region>:<account>:pipeline/<lower-case name>."
  }

  validation {
    condition     = alltrue([for s in values(var.schedules) : s.function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]{1,64}$", s.function_arn))])
    error_message = "Every function_arn must be arn:aws:lambda:<region>:<account>:function:<name> (no version or alias)."
  }
}

variable "role_name" {
  description = "Name of the role EventBridge Scheduler assumes to start the pipelines."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the schedules' target input."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  description = "Tags added to the role (schedules carry no tags in the provider)."
  type        = map(string)
  default     = {}
}
