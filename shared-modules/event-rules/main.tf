data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # One source of truth: the pattern files the Python event router also reads.
  pattern_paths = { for name, rule in var.rules : name => "${var.patterns_dir}/${rule.pattern}.json" }
  pattern_texts = { for name, path in local.pattern_paths : name => templatefile(path, var.pattern_values) }
  invalid_patterns = sort([
    for name, text in local.pattern_texts : local.pattern_paths[name] if !can(jsondecode(text))
  ])

  # Split on the declared target kind: the ARNs may be unknown until apply, the kind never is.
  lambda_rules   = { for name, rule in var.rules : name => rule if rule.target == "lambda" }
  pipeline_rules = { for name, rule in var.rules : name => rule if rule.target == "pipeline" }
  bus_rules      = { for name, rule in var.rules : name => rule if rule.target == "bus" }
  needs_role     = length(local.pipeline_rules) + length(local.bus_rules) > 0

  role_statements = concat(
    length(local.pipeline_rules) == 0 ? [] : [{
      Sid      = "StartPipelines"
      Effect   = "Allow"
      Action   = ["sagemaker:StartPipelineExecution"]
      Resource = sort(distinct([for rule in values(local.pipeline_rules) : rule.pipeline_arn]))
    }],
    length(local.bus_rules) == 0 ? [] : [{
      Sid      = "ForwardToBuses"
      Effect   = "Allow"
      Action   = ["events:PutEvents"]
      Resource = sort(distinct([for rule in values(local.bus_rules) : rule.event_bus_arn]))
    }],
  )
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = var.rules

  name          = "batchops-${each.key}"
  description   = each.value.description
  event_pattern = try(jsonencode(jsondecode(local.pattern_texts[each.key])), local.pattern_texts[each.key])
  tags          = var.tags

  lifecycle {
    precondition {
      condition     = length(local.invalid_patterns) == 0
      error_message = "Event pattern files are not valid JSON after filling placeholders: ${join(", ", local.invalid_patterns)}."
    }
  }
}

resource "aws_cloudwatch_event_target" "lambda" {
  for_each = local.lambda_rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = each.value.target_id
  arn       = each.value.lambda_function_arn

  retry_policy {
    maximum_event_age_in_seconds = var.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.retry_policy.maximum_retry_attempts
  }

  dynamic "dead_letter_config" {
    for_each = aws_sqs_queue.dead_letters
    content {
      arn = dead_letter_config.value.arn
    }
  }

  dynamic "input_transformer" {
    for_each = each.value.input_transformer == null ? [] : [each.value.input_transformer]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }
}

# Events EventBridge could not deliver (after the RetryPolicy, or at once for errors a retry
# cannot fix) wait here for `batchops events redrive`; the alarm tells the team.
resource "aws_sqs_queue" "dead_letters" {
  count = var.dead_letter_queue_name == null ? 0 : 1

  name                              = var.dead_letter_queue_name
  kms_master_key_id                 = var.kms_key_arn
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : 3600
  message_retention_seconds         = 1209600
  tags                              = var.tags
}

resource "aws_sqs_queue_policy" "dead_letters" {
  count = length(aws_sqs_queue.dead_letters)

  queue_url = aws_sqs_queue.dead_letters[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeSendsUndeliveredEvents"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letters[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = [for rule in aws_cloudwatch_event_rule.this : rule.arn] } }
    }]
  })
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count = var.dead_letter_alarm && var.dead_letter_queue_name != null ? 1 : 0

  alarm_name          = "${var.dead_letter_queue_name}-not-empty"
  alarm_description   = "Events failed every delivery attempt and wait in ${var.dead_letter_queue_name}: see `batchops events dead-letters`, fix the cause, then `batchops events redrive`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.dead_letter_queue_name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

resource "aws_lambda_permission" "events" {
  for_each = local.lambda_rules

  statement_id   = "AllowEventBridge-${each.key}"
  action         = "lambda:InvokeFunction"
  function_name  = each.value.lambda_function_arn
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.this[each.key].arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_iam_role" "targets" {
  count = local.needs_role ? 1 : 0

  name = var.targets_role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "targets" {
  count = local.needs_role ? 1 : 0

  name   = "${var.targets_role_name}-permissions"
  role   = aws_iam_role.targets[0].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.role_statements })
}

resource "aws_cloudwatch_event_target" "pipeline" {
  for_each = local.pipeline_rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = each.value.target_id
  arn       = each.value.pipeline_arn
  role_arn  = aws_iam_role.targets[0].arn

  retry_policy {
    maximum_event_age_in_seconds = var.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.retry_policy.maximum_retry_attempts
  }

  dynamic "dead_letter_config" {
    for_each = aws_sqs_queue.dead_letters
    content {
      arn = dead_letter_config.value.arn
    }
  }

  dynamic "input_transformer" {
    for_each = each.value.input_transformer == null ? [] : [each.value.input_transformer]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }

  dynamic "sagemaker_pipeline_target" {
    for_each = length(each.value.pipeline_parameters) > 0 ? [each.value.pipeline_parameters] : []
    content {
      dynamic "pipeline_parameter_list" {
        for_each = sagemaker_pipeline_target.value
        content {
          name  = pipeline_parameter_list.key
          value = pipeline_parameter_list.value
        }
      }
    }
  }
}

resource "aws_cloudwatch_event_target" "bus" {
  for_each = local.bus_rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = each.value.target_id
  arn       = each.value.event_bus_arn
  role_arn  = aws_iam_role.targets[0].arn

  retry_policy {
    maximum_event_age_in_seconds = var.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = var.retry_policy.maximum_retry_attempts
  }

  dynamic "dead_letter_config" {
    for_each = aws_sqs_queue.dead_letters
    content {
      arn = dead_letter_config.value.arn
    }
  }

  dynamic "input_transformer" {
    for_each = each.value.input_transformer == null ? [] : [each.value.input_transformer]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }
}

# On the receiving side (data-science): let the workload accounts put events on the
# default bus, so their model-quality failures reach the retrain rule.
resource "aws_cloudwatch_event_bus_policy" "this" {
  count = length(var.bus_policy_source_account_ids) > 0 ? 1 : 0

  event_bus_name = "default"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "WorkloadAccountsPutEvents"
      Effect    = "Allow"
      Principal = { AWS = [for id in sort(distinct(var.bus_policy_source_account_ids)) : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
      Action    = "events:PutEvents"
      Resource  = "arn:${data.aws_partition.current.partition}:events:${var.pattern_values.region}:${data.aws_caller_identity.current.account_id}:event-bus/default"
    }]
  })
}
