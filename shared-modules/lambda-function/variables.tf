variable "function_name" {
  description = "Name of the function, also used for its role, log group and dead-letter queue (e.g. `batchops-notify`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,60}$", var.function_name))
    error_message = "function_name must be 1-60 letters, digits, '_' or '-' (60 leaves room for the -dlq suffix)."
  }
}

variable "description" {
  description = "Description stored on the function."
  type        = string
  default     = ""
}

variable "filename" {
  description = "Path of the zip built by `make build` (dist/functions/<name>.zip); its SHA-256 decides when the code is updated."
  type        = string

  validation {
    condition     = endswith(var.filename, ".zip")
    error_message = "filename must be the path of a .zip package."
  }
}

variable "handler" {
  description = "Entry point, e.g. `batchops.functions.notify.handler`."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "handler must be a dotted module path followed by the function name, e.g. batchops.functions.notify.handler."
  }
}

variable "runtime" {
  description = "Lambda runtime."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.11", "python3.12", "python3.13"], var.runtime)
    error_message = "runtime must be python3.11, python3.12 or python3.13."
  }
}

variable "timeout" {
  description = "Seconds an invocation may run."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "memory_size" {
  description = "Memory in MB."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240 MB."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; -1 leaves the function unreserved."
  type        = number
  default     = -1
}

variable "environment_variables" {
  description = "Environment variables (encrypted at rest with kms_key_arn). Never put secrets here: pass a Secrets Manager id instead."
  type        = map(string)
  default     = {}
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed key for the environment variables, the log group and the dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[a-zA-Z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "log_retention_in_days" {
  description = "Days CloudWatch Logs keeps the function's logs (one of the values CloudWatch allows)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_in_days)
    error_message = "log_retention_in_days must be a value CloudWatch allows: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "policy_statements" {
  description = "Extra Allow statements for the function's job; actions must be named and resources must not be `*`."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.policy_statements :
      can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0 &&
      !anytrue([for a in s.actions : a == "*" || endswith(a, ":*")]) && !contains(s.resources, "*")
    ])
    error_message = "Every policy_statements entry needs an alphanumeric sid, named actions (no '*' or 'service:*') and resources other than '*'."
  }
}

variable "tags" {
  description = "Tags added to every resource of the function."
  type        = map(string)
  default     = {}
}

variable "alarm_topic_arn" {
  description = "SNS topic the dead-letter alarm notifies (used when dead_letter_alarm is true)."
  type        = string
  default     = null
}

variable "dead_letter_alarm" {
  description = "Whether an alarm notifies alarm_topic_arn when the dead-letter queue holds an event (a plain bool: count cannot wait for the topic's ARN)."
  type        = bool
  default     = false
}
