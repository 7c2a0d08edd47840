locals {
  table_statement = {
    sid       = "IdempotencyRecords"
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
    resources = [module.idempotency_table.table_arn]
  }
  publish_statement = {
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = [module.notifications.topic_arn]
  }

  all_functions = {
    (var.notification_function_name) = {
      zip         = "notify.zip"
      handler     = "batchops.functions.notify.handler"
      description = "Formats SageMaker pipeline status changes and publishes them to the notification topic."
      environment = {
        BATCHOPS_TOPIC_ARN           = module.notifications.topic_arn
        BATCHOPS_NOTIFICATION_CONFIG = jsonencode(var.custom_notification_config)
        BATCHOPS_ENVIRONMENT         = var.environment
        # EventBridge delivers at least once: one message per event id, not one per delivery
        BATCHOPS_IDEMPOTENCY_TABLE = module.idempotency_table.table_name
      }
      statements = [
        local.publish_statement,
        local.table_statement,
        {
          # a data-quality Processing step that found violations succeeds: the handler
          # reads its job's constraint_violations.json to send the warning
          sid       = "ReadDataQualityReports"
          actions   = ["sagemaker:DescribeProcessingJob"]
          resources = ["arn:${local.partition}:sagemaker:${var.region}:${var.account_id}:processing-job/*"]
        },
        {
          sid       = "ReadDataQualityReportFiles"
          actions   = ["s3:GetObject"]
          resources = ["${module.data_bucket.bucket_arn}/${var.bucket_prefix}/*"]
        },
        {
          sid       = "DecryptDataQualityReportFiles"
          actions   = ["kms:Decrypt"]
          resources = [module.kms_key.key_arn]
        },
      ]
    }
    batchops-approval-trigger = {
      zip         = "approval_trigger.zip"
      handler     = "batchops.functions.approval_trigger.handler"
      description = "Starts the GitLab deploy pipeline when a model version is approved."
      environment = {
        BATCHOPS_GITLAB_URL               = coalesce(var.gitlab_api_url, var.gitlab_url)
        BATCHOPS_GITLAB_PROJECT           = var.gitlab_project
        BATCHOPS_GITLAB_REF               = var.gitlab_ref
        BATCHOPS_TRIGGER_SECRET_ID        = var.gitlab_trigger_secret_name
        BATCHOPS_GITLAB_READ_SECRET_ID    = var.gitlab_read_token_secret_name
        BATCHOPS_IDEMPOTENCY_TABLE        = module.idempotency_table.table_name
        BATCHOPS_MODEL_PACKAGE_GROUP_NAME = var.model_package_group_name
        BATCHOPS_TOPIC_ARN                = module.notifications.topic_arn
      }
      statements = [
        local.table_statement,
        local.publish_statement,
        {
          sid     = "ReadGitLabTokens"
          actions = ["secretsmanager:GetSecretValue"]
          resources = [
            "arn:${local.partition}:secretsmanager:${var.region}:${var.account_id}:secret:${var.gitlab_trigger_secret_name}-*",
            "arn:${local.partition}:secretsmanager:${var.region}:${var.account_id}:secret:${var.gitlab_read_token_secret_name}-*",
          ]
        },
        {
          # reads the version's current status; sets an HPO version without a review back
          # to PendingManualApproval (the review rule, whoever approved it)
          sid       = "ReadAndGovernVersions"
          actions   = ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"]
          resources = ["${replace(local.registry_group_arn, ":model-package-group/", ":model-package/")}/*"]
        },
        {
          # the previous approved version, when a deployed one is rejected
          sid       = "ListVersions"
          actions   = ["sagemaker:ListModelPackages"]
          resources = [local.registry_group_arn]
        },
      ]
    }
    batchops-pipeline-trigger = {
      zip         = "pipeline_trigger.zip"
      handler     = "batchops.functions.pipeline_trigger.handler"
      description = "Starts the account's pipeline once per uploaded object version (inference: only while its model version is approved)."
      environment = {
        BATCHOPS_PIPELINE_NAME          = local.is_registry_account ? var.pipeline_train : var.pipeline_inf
        BATCHOPS_REQUIRE_APPROVED_MODEL = local.is_registry_account ? "false" : "true"
        BATCHOPS_IDEMPOTENCY_TABLE      = module.idempotency_table.table_name
        BATCHOPS_TOPIC_ARN              = module.notifications.topic_arn
      }
      statements = [
        local.table_statement,
        local.publish_statement,
        {
          sid       = "StartThePipeline"
          actions   = ["sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution"]
          resources = [local.is_registry_account ? local.pipeline_arn.train : local.pipeline_arn.inf]
        },
        {
          # the central registry (cross-account: its group policy allows the workload accounts)
          sid       = "ReadThePinnedVersion"
          actions   = ["sagemaker:DescribeModelPackage"]
          resources = ["${replace(local.registry_group_arn, ":model-package-group/", ":model-package/")}/*"]
        },
      ]
    }
    batchops-promotion-evidence = {
      zip         = "promotion_evidence.zip"
      handler     = "batchops.functions.promotion_evidence.handler"
      description = "Records each ended staging inference run on the model version it ran (promotion evidence in the central registry)."
      environment = {
        BATCHOPS_MODEL_PACKAGE_GROUP_ARN = local.registry_group_arn
      }
      statements = [
        {
          sid       = "ReadTheRunsParameters"
          actions   = ["sagemaker:DescribePipelineDefinitionForExecution", "sagemaker:ListPipelineParametersForExecution"]
          resources = ["${local.pipeline_arn.inf}/execution/*"]
        },
        {
          sid       = "RecordEvidenceOnTheVersion"
          actions   = ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"]
          resources = ["${replace(local.registry_group_arn, ":model-package-group/", ":model-package/")}/*"]
        },
      ]
    }
    batchops-retrain-trigger = {
      zip         = "retrain_trigger.zip"
      handler     = "batchops.functions.retrain_trigger.handler"
      description = "Starts the HPO training pipeline when model quality fails in any account (with a cooldown)."
      environment = {
        BATCHOPS_RETRAIN_PIPELINE_NAME    = var.pipeline_trainwhpo
        BATCHOPS_RETRAIN_COOLDOWN_MINUTES = tostring(var.retrain_cooldown_minutes)
        BATCHOPS_IDEMPOTENCY_TABLE        = module.idempotency_table.table_name
        BATCHOPS_TOPIC_ARN                = module.notifications.topic_arn
      }
      statements = [
        local.table_statement,
        local.publish_statement,
        {
          sid       = "StartRetraining"
          actions   = ["sagemaker:ListPipelineExecutions", "sagemaker:StartPipelineExecution"]
          resources = [local.pipeline_arn.trainwhpo]
        },
      ]
    }
  }
  functions = { for name, f in local.all_functions : name => f if contains(local.function_names, name) }
}

module "functions" {
  source   = "../lambda-function"
  for_each = local.functions

  function_name         = each.key
  description           = each.value.description
  handler               = each.value.handler
  filename              = "${var.function_packages_dir}/${each.value.zip}"
  kms_key_arn           = module.kms_key.key_arn
  environment_variables = each.value.environment
  policy_statements     = each.value.statements
  log_retention_in_days = var.log_retention_in_days
  alarm_topic_arn       = module.notifications.topic_arn
  dead_letter_alarm     = true
  tags                  = local.tags
}
