data "aws_caller_identity" "current" {}

# Terraform is the one owner of pipeline schedules (DESIGN §5): the SDK's PipelineSchedule
# writes the same kind of object, so it is not used, and the two never drift.
resource "aws_iam_role" "scheduler" {
  name = var.role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "scheduler.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

locals {
  # a schedule with function_arn goes through that function (batchops-pipeline-trigger:
  # it refuses a run while the pinned model version is not approved); the others start
  # their pipeline directly
  direct_pipelines = sort(distinct([for s in values(var.schedules) : s.pipeline_arn if s.function_arn == null]))
  functions        = sort(distinct([for s in values(var.schedules) : s.function_arn if s.function_arn != null]))
}

resource "aws_iam_role_policy" "scheduler" {
  name = "${var.role_name}-permissions"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      length(local.direct_pipelines) == 0 ? [] : [{
        Sid      = "StartScheduledPipelines"
        Effect   = "Allow"
        Action   = ["sagemaker:StartPipelineExecution"]
        Resource = local.direct_pipelines
      }],
      length(local.functions) == 0 ? [] : [{
        Sid      = "InvokeScheduleFunctions"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = sort(concat(local.functions, [for f in local.functions : "${f}:*"]))
      }],
    )
  })
}

resource "aws_scheduler_schedule" "this" {
  for_each = var.schedules

  name                         = each.key
  description                  = each.value.description
  schedule_expression          = each.value.expression
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = 15
  }

  target {
    arn      = coalesce(each.value.function_arn, each.value.pipeline_arn)
    role_arn = aws_iam_role.scheduler.arn
    # the function's input: Scheduler fills in the context attributes at each run
    input = each.value.function_arn == null ? null : jsonencode({
      source        = "batchops.scheduler"
      "detail-type" = "Scheduled Pipeline Run"
      time          = "<aws.scheduler.scheduled-time>"
      schedule_arn  = "<aws.scheduler.schedule-arn>"
      detail = {
        pipeline_arn = each.value.pipeline_arn
        parameters   = each.value.parameters
      }
    })

    retry_policy {
      maximum_event_age_in_seconds = 3600
      maximum_retry_attempts       = 3
    }

    dynamic "sagemaker_pipeline_parameters" {
      for_each = each.value.function_arn == null && length(each.value.parameters) > 0 ? [each.value.parameters] : []
      content {
        dynamic "pipeline_parameter" {
          for_each = sagemaker_pipeline_parameters.value
          content {
            name  = pipeline_parameter.key
            value = pipeline_parameter.value
          }
        }
      }
    }
  }
}
