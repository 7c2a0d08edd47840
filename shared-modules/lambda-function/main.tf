data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id    = data.aws_caller_identity.current.account_id
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.name}:${local.account_id}:log-group:/aws/lambda/${var.function_name}"

  # What every function needs (its own log group, its DLQ, the key both are encrypted
  # with, X-Ray), then what the caller grants for the function's job.
  base_statements = [
    {
      Sid      = "OwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${local.log_group_arn}:*"]
    },
    {
      Sid      = "OwnDeadLetterQueue"
      Effect   = "Allow"
      Action   = ["sqs:SendMessage"]
      Resource = [aws_sqs_queue.dead_letter.arn]
    },
    {
      Sid      = "EncryptWithAccountKey"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource = [var.kms_key_arn]
    },
    {
      # X-Ray has no resource-level permissions for these two actions.
      Sid      = "Tracing"
      Effect   = "Allow"
      Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
      Resource = ["*"]
    },
  ]
  extra_statements = [
    for s in var.policy_statements : { Sid = s.sid, Effect = "Allow", Action = s.actions, Resource = s.resources }
  ]
}

resource "aws_iam_role" "this" {
  name = var.function_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.function_name}-permissions"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = concat(local.base_statements, local.extra_statements) })
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.function_name}-dlq"
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 3600
  message_retention_seconds         = 1209600
  tags                              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call only AWS APIs and GitLab's HTTPS API; a VPC would need NAT and endpoints for no isolation gain.
  #checkov:skip=CKV_AWS_272:Zips are built reproducibly by `make build` and promoted as the same bytes (DESIGN §8); code signing is an organisation-level choice.
  #checkov:skip=CKV_AWS_115:Reserved concurrency would fail in new accounts (unreserved minimum of 10); idempotency and the DLQ bound the effect of bursts.
  function_name                  = var.function_name
  description                    = var.description
  role                           = aws_iam_role.this.arn
  runtime                        = var.runtime
  handler                        = var.handler
  filename                       = var.filename
  source_code_hash               = fileexists(var.filename) ? filebase64sha256(var.filename) : null
  timeout                        = var.timeout
  memory_size                    = var.memory_size
  kms_key_arn                    = var.kms_key_arn
  reserved_concurrent_executions = var.reserved_concurrent_executions

  environment {
    variables = var.environment_variables
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dead_letter.arn
  }

  tracing_config {
    mode = "Active"
  }

  tags = var.tags

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]

  lifecycle {
    precondition {
      condition     = fileexists(var.filename)
      error_message = "Lambda package ${var.filename} does not exist; build the zips with `make build` (python -m batchops.build --out dist/functions)."
    }
  }
}

# Lambda retries an asynchronous invocation twice (1 and 2 minutes later) and keeps the
# event up to 6 hours; then it goes to the dead-letter queue. Stated here, not left to
# defaults, so the local cloud's router and a reviewer read the same numbers.
resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count = var.dead_letter_alarm ? 1 : 0

  alarm_name          = "${aws_sqs_queue.dead_letter.name}-not-empty"
  alarm_description   = "Events ${var.function_name} failed on after its retries wait in ${aws_sqs_queue.dead_letter.name}: see `batchops events dead-letters`, fix the cause, then `batchops events redrive`."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter.name }
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
