locals {
  # Rules by pattern-file stem; each account gets the ones its role in the lifecycle needs.
  # Every entry names all attributes (null when unused) so the maps share one type.
  no_target = { lambda_function_arn = null, pipeline_arn = null, pipeline_parameters = {}, event_bus_arn = null }
  registry_rules = {
    approval-to-deploy = merge(local.no_target, {
      pattern             = "approval-to-deploy"
      description         = "An approved model version starts the GitLab deploy pipeline."
      target              = "lambda"
      lambda_function_arn = try(module.functions["batchops-approval-trigger"].function_arn, null)
    })
    model-quality-failed-to-retrain = merge(local.no_target, {
      pattern             = "model-quality-failed-to-retrain"
      description         = "A failed model-quality check (from any account) starts HPO retraining."
      target              = "lambda"
      lambda_function_arn = try(module.functions["batchops-retrain-trigger"].function_arn, null)
    })
    training-data-to-training-pipeline = merge(local.no_target, {
      pattern      = "training-data-to-training-pipeline"
      description  = "New training data starts the training pipeline."
      target       = "pipeline"
      pipeline_arn = local.pipeline_arn.train
    })
  }
  workload_rules = {
    model-quality-failed-to-data-science-bus = merge(local.no_target, {
      pattern       = "model-quality-failed-to-data-science-bus"
      description   = "Forward model-quality failures to the data-science account's default bus."
      target        = "bus"
      event_bus_arn = "arn:${local.partition}:events:${var.region}:${var.registry_account_id}:event-bus/default"
    })
    inference-data-to-inference-pipeline = merge(local.no_target, {
      pattern      = "inference-data-to-inference-pipeline"
      description  = "A new inference batch starts the inference pipeline on it."
      target       = "pipeline"
      pipeline_arn = local.pipeline_arn.inf
      pipeline_parameters = {
        InputBucket = "$.detail.bucket.name"
        InputKey    = "$.detail.object.key"
      }
    })
  }
  staging_rules = {
    inference-run-to-promotion-evidence = merge(local.no_target, {
      pattern             = "inference-run-to-promotion-evidence"
      description         = "An ended inference run is recorded on the model version it ran (promotion evidence)."
      target              = "lambda"
      lambda_function_arn = try(module.functions["batchops-promotion-evidence"].function_arn, null)
    })
  }
  common_rules = {
    pipeline-status-to-notify = merge(local.no_target, {
      pattern             = "pipeline-status-to-notify"
      description         = "Pipeline and step status changes are sent to the notify function."
      target              = "lambda"
      lambda_function_arn = module.functions[var.notification_function_name].function_arn
    })
  }

  schedules = merge(
    var.training_schedule == null || !local.is_registry_account ? {} : {
      "batchops-${var.environment}-training-schedule" = {
        description  = "Scheduled run of the training pipeline."
        expression   = var.training_schedule
        target       = "pipeline"
        pipeline_arn = local.pipeline_arn.train
      }
    },
    var.inference_schedule == null || local.is_registry_account ? {} : {
      "batchops-${var.environment}-inference-schedule" = {
        description  = "Scheduled run of the inference pipeline on the latest batch."
        expression   = var.inference_schedule
        target       = "pipeline"
        pipeline_arn = local.pipeline_arn.inf
      }
    },
  )
}

module "event_rules" {
  source = "../event-rules"

  patterns_dir   = var.patterns_dir
  pattern_values = local.pattern_values
  rules = merge(
    local.common_rules,
    local.is_registry_account ? local.registry_rules : local.workload_rules,
    var.environment == "staging" ? local.staging_rules : {},
  )
  targets_role_name             = "batchops-${var.environment}-events-targets"
  bus_policy_source_account_ids = local.is_registry_account ? var.workload_account_ids : []
  tags                          = local.tags
}

module "pipeline_schedules" {
  source = "../pipeline-schedules"
  count  = length(local.schedules) > 0 ? 1 : 0

  schedules   = local.schedules
  role_name   = "batchops-${var.environment}-scheduler"
  kms_key_arn = module.kms_key.key_arn
  tags        = local.tags
}

# The account's GitLab OIDC provider is made once by accounts/bootstrap; reading it here
# fails the plan early, with the URL, when the bootstrap has not been applied.
data "aws_iam_openid_connect_provider" "gitlab" {
  url = var.gitlab_url
}

module "deploy_role" {
  source = "../deploy-role"

  role_name           = var.access_role_name
  environment         = var.environment
  gitlab_url          = var.gitlab_url
  gitlab_project_path = var.gitlab_project
  allowed_refs        = var.deploy_allowed_refs
  oidc_provider_arn   = data.aws_iam_openid_connect_provider.gitlab.arn
  # Production: only a job in the protected production environment (defect 10).
  protected_environment_tier = var.environment == "production" ? "production" : null
  policy_statements = [
    {
      sid       = "ManagePipelines"
      actions   = ["sagemaker:CreatePipeline", "sagemaker:DeletePipeline", "sagemaker:DescribePipeline", "sagemaker:StartPipelineExecution", "sagemaker:UpdatePipeline", "sagemaker:AddTags"]
      resources = values(local.pipeline_arn)
    },
    {
      sid       = "PassExecutionRole"
      actions   = ["iam:PassRole"]
      resources = [module.sagemaker_execution_role.role_arn]
    },
    {
      # staging's deploy job also records the deployment on the version (batchops.promotion)
      sid       = "ReadRegistry"
      actions   = concat(["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"], var.environment == "staging" ? ["sagemaker:UpdateModelPackage"] : [])
      resources = [local.registry_group_arn, "${replace(local.registry_group_arn, ":model-package-group/", ":model-package/")}/*"]
    },
    {
      sid       = "UploadStepCode"
      actions   = ["s3:GetObject", "s3:ListBucket", "s3:PutObject"]
      resources = [module.data_bucket.bucket_arn, "${module.data_bucket.bucket_arn}/${var.bucket_prefix}/*"]
    },
    {
      # DescribeKey: batchops.kms resolves the settings' alias to the key ARN the bucket
      # policy compares with
      sid       = "UseAccountKey"
      actions   = ["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"]
      resources = [module.kms_key.key_arn]
    },
  ]
  tags = local.tags
}
