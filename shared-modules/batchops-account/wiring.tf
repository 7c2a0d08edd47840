locals {
  # Rules by pattern-file stem, declared once in rules.json beside the pattern files (the
  # local cloud's bootstrap reads the same file): description, the environments that deploy
  # the rule, its one target (id, kind, function or bus, input transformer) and the RetryPolicy.
  # New data goes through batchops-pipeline-trigger: one run per object version (S3 and
  # EventBridge deliver at least once), started with InputBucket/InputKey of the event.
  event_rules_file = jsondecode(file("${var.patterns_dir}/rules.json"))
  registry_bus_arn = "arn:${local.partition}:events:${var.region}:${var.registry_account_id}:event-bus/default"
  event_rules = {
    for stem, rule in local.event_rules_file.rules : stem => {
      pattern     = stem
      description = rule.description
      target      = rule.target.kind
      target_id   = rule.target.id
      # the notify function's name is a variable of the roots; rules.json names the default
      # (a missing function leaves null, which the module's validation reports)
      lambda_function_arn = try(module.functions[replace(rule.target.function, "/^batchops-notify$/", var.notification_function_name)].function_arn, null)
      event_bus_arn       = try(rule.target.bus, null) == "registry-default" ? local.registry_bus_arn : null
      input_transformer   = try(rule.target.input_transformer, null)
    } if contains(rule.environments, var.environment)
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
        # through batchops-pipeline-trigger: no scheduled run with a rejected version
        function_arn = try(module.functions["batchops-pipeline-trigger"].function_arn, null)
      }
    },
  )
}

module "event_rules" {
  source = "../event-rules"

  patterns_dir                  = var.patterns_dir
  pattern_values                = local.pattern_values
  rules                         = local.event_rules
  retry_policy                  = local.event_rules_file.retry_policy
  targets_role_name             = "batchops-${var.environment}-events-targets"
  bus_policy_source_account_ids = local.is_registry_account ? var.workload_account_ids : []
  dead_letter_queue_name        = "batchops-${var.environment}-events-dlq"
  kms_key_arn                   = module.kms_key.key_arn
  alarm_topic_arn               = module.notifications.topic_arn
  dead_letter_alarm             = true
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
