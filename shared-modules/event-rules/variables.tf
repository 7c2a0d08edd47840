variable "patterns_dir" {
  description = "Folder of the event pattern files (`src/batchops/events`), shared with the Python event router."
  type        = string
}

variable "pattern_values" {
  description = "Values of the `$${placeholder}`s in the pattern files (account_id, region, bucket_name, pipeline ARNs...); the same map `batchops.events.pattern_values(settings)` builds."
  type        = map(string)

  validation {
    condition     = contains(keys(var.pattern_values), "region") && contains(keys(var.pattern_values), "account_id")
    error_message = "pattern_values must contain at least region and account_id."
  }
}

variable "rules" {
  description = "Rules by name (the rule is called `batchops-<name>`): the pattern file stem, a description, the target kind (`lambda`, `pipeline` or `bus`) and that one target's ARN: a Lambda function, a SageMaker pipeline (with parameters, values may be JSON paths into the event) or another event bus; optionally the target's Id and an input transformer (InputPathsMap and InputTemplate). `src/batchops/events/rules.json` declares them for the account roots."
  type = map(object({
    pattern             = string
    description         = string
    target              = string
    lambda_function_arn = optional(string)
    pipeline_arn        = optional(string)
    pipeline_parameters = optional(map(string), {})
    event_bus_arn       = optional(string)
    # the target's Id (null: Terraform makes one up) and an optional input transformer
    target_id = optional(string)
    input_transformer = optional(object({
      input_paths    = optional(map(string), {})
      input_template = string
    }))
  }))

  validation {
    condition = alltrue([
      for rule in values(var.rules) :
      contains(["lambda", "pipeline", "bus"], rule.target) &&
      (rule.lambda_function_arn != null) == (rule.target == "lambda") &&
      (rule.pipeline_arn != null) == (rule.target == "pipeline") &&
      (rule.event_bus_arn != null) == (rule.target == "bus")
    ])
    error_message = "Every rule needs target = lambda, pipeline or bus and exactly the matching one of lambda_function_arn, pipeline_arn or event_bus_arn."
  }

  validation {
    condition = alltrue([
      for rule in values(var.rules) :
      (rule.lambda_function_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9_-]+$", rule.lambda_function_arn))) &&
      (rule.pipeline_arn == null || can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:pipeline/[a-z0-9-]+$", rule.pipeline_arn))) &&
      (rule.event_bus_arn == null || can(regex("^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[a-zA-Z0-9._/-]+$", rule.event_bus_arn)))
    ])
    error_message = "Targets must be ARNs of their kind: arn:aws:lambda:...:function:<name>, arn:aws:sagemaker:...:pipeline/<lower-case name> or arn:aws:events:...:event-bus/<name>."
  }

  validation {
    condition     = alltrue([for rule in values(var.rules) : can(regex("^[a-z0-9-]+$", rule.pattern))])
    error_message = "pattern must be the stem of a pattern file (lower-case letters, digits, '-'), e.g. approval-to-deploy."
  }
}

variable "targets_role_name" {
  description = "Name of the role EventBridge assumes to start pipelines and forward events (created only when such targets exist)."
  type        = string
  default     = "batchops-events-targets"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.targets_role_name))
    error_message = "targets_role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "bus_policy_source_account_ids" {
  description = "Accounts allowed to put events on this account's default bus (set in data-science to staging and production)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.bus_policy_source_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "Every bus_policy_source_account_ids entry must be a 12-digit AWS account id."
  }
}

variable "tags" {
  description = "Tags added to the rules and the role."
  type        = map(string)
  default     = {}
}

variable "dead_letter_queue_name" {
  description = "Name of the SQS queue that keeps the events EventBridge could not deliver to a target after its retries (null: no dead-letter queue, AWS drops them)."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "KMS key the dead-letter queue is encrypted with (null: SQS-managed encryption)."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic the dead-letter alarm notifies (used when dead_letter_alarm is true)."
  type        = string
  default     = null
}

variable "dead_letter_alarm" {
  description = "Whether an alarm notifies alarm_topic_arn when the dead-letter queue holds an event."
  type        = bool
  default     = false
}

variable "retry_policy" {
  description = "Every target's RetryPolicy: how long and how often EventBridge retries a delivery before the dead-letter queue (EventBridge's default: 185 attempts over 24 h)."
  type = object({
    maximum_retry_attempts       = number
    maximum_event_age_in_seconds = number
  })
  default = { maximum_retry_attempts = 8, maximum_event_age_in_seconds = 3600 }

  validation {
    condition     = var.retry_policy.maximum_retry_attempts >= 0 && var.retry_policy.maximum_retry_attempts <= 185 && var.retry_policy.maximum_event_age_in_seconds >= 60 && var.retry_policy.maximum_event_age_in_seconds <= 86400
    error_message = "retry_policy: maximum_retry_attempts must be 0-185 and maximum_event_age_in_seconds 60-86400 (EventBridge's limits)."
  }
}
