data "aws_partition" "current" {}

locals {
  is_registry_account = var.environment == "data-science"
  partition           = data.aws_partition.current.partition
  account_root_arn    = "arn:${local.partition}:iam::${var.account_id}"
  role_arn            = "${local.account_root_arn}:role"

  sagemaker_role_name = "batchops-${var.environment}-sagemaker-execution"
  sagemaker_role_arn  = "${local.role_arn}/${local.sagemaker_role_name}"
  function_names = concat(
    [var.notification_function_name],
    local.is_registry_account ? ["batchops-approval-trigger", "batchops-retrain-trigger"] : [],
    # staging records its inference runs on the registry's versions (batchops.promotion)
    var.environment == "staging" ? ["batchops-promotion-evidence"] : [],
  )
  function_role_arns = [for name in local.function_names : "${local.role_arn}/${name}"]

  pipeline_arn = { for key, name in {
    train     = var.pipeline_train
    trainwhpo = var.pipeline_trainwhpo
    inf       = var.pipeline_inf
  } : key => "arn:${local.partition}:sagemaker:${var.region}:${var.account_id}:pipeline/${lower(name)}" }
  registry_group_arn = "arn:${local.partition}:sagemaker:${var.region}:${var.registry_account_id}:model-package-group/${lower(var.model_package_group_name)}"
  registry_bucket    = "batchops-data-science-${var.registry_account_id}"
  # The data-science root names its key alias/batchops-data-science (kms_key below).
  registry_key_alias_arn = "arn:${local.partition}:kms:${var.region}:${var.registry_account_id}:alias/batchops-data-science"
  registry_kms_key_arn   = local.is_registry_account ? null : coalesce(var.registry_kms_key_arn, one(data.aws_kms_key.registry[*].arn))

  terraform_plan_role_arn  = "${local.role_arn}/${var.terraform_role_names.plan}"
  terraform_apply_role_arn = "${local.role_arn}/${var.terraform_role_names.apply}"

  # The same map batchops.events.pattern_values(settings) builds.
  pattern_values = {
    account_id               = var.account_id
    region                   = var.region
    bucket_name              = var.bucket_name
    training_data_prefix     = "${var.bucket_prefix}/${var.bucket_train_prefix}/"
    inference_data_prefix    = "${var.bucket_prefix}/${var.bucket_inf_prefix}/"
    model_package_group_name = var.model_package_group_name
    pipeline_train_arn       = local.pipeline_arn.train
    pipeline_trainwhpo_arn   = local.pipeline_arn.trainwhpo
    pipeline_inf_arn         = local.pipeline_arn.inf
    pipeline_inf             = lower(var.pipeline_inf)
    model_quality_step_name  = "CheckModelQuality"
  }
  tags = merge(var.tags, { "batchops:user-id" = var.user_id })
}

# Staging and production read the registry key's ARN from the data-science account itself
# (its key policy allows kms:DescribeKey to them), so no CI job or tfvars file carries it.
data "aws_kms_key" "registry" {
  count  = !local.is_registry_account && var.registry_kms_key_arn == null ? 1 : 0
  key_id = local.registry_key_alias_arn
}

module "kms_key" {
  source = "../kms-key"

  alias_name             = "batchops-${var.environment}"
  user_arns              = concat([local.sagemaker_role_arn, "${local.role_arn}/${var.access_role_name}"], local.function_role_arns)
  service_principals     = ["events.amazonaws.com", "scheduler.amazonaws.com", "sns.amazonaws.com"]
  s3_decrypt_account_ids = local.is_registry_account ? var.workload_account_ids : []
  describe_account_ids   = local.is_registry_account ? var.workload_account_ids : []
  # The Terraform roles of accounts/bootstrap: plan reads what Lambda encrypts with the key
  # (function configuration), apply creates the encrypted table, functions, queues and
  # secret. Lambda: "only users with access to the KMS key can view or manage the
  # function's code or configuration" (Lambda developer guide, encryption).
  via_service_users = [
    {
      sid            = "TerraformApplyThroughServices"
      principal_arns = [local.terraform_apply_role_arn]
      services       = ["dynamodb", "lambda", "secretsmanager", "sqs"]
      actions        = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    },
    {
      sid            = "TerraformPlanReadsThroughLambda"
      principal_arns = [local.terraform_plan_role_arn]
      services       = ["lambda"]
      actions        = ["kms:Decrypt", "kms:DescribeKey"]
    },
  ]
  deletion_window_in_days = var.kms_deletion_window_in_days
  tags                    = local.tags
}

module "data_bucket" {
  source = "../data-bucket"

  bucket_name   = var.bucket_name
  kms_key_arn   = module.kms_key.key_arn
  force_destroy = var.sandbox
  # Staging and production read the registered model artefacts and step code.
  cross_account_readers = local.is_registry_account ? [
    for id in var.workload_account_ids : { account_id = id, prefixes = [var.bucket_prefix] }
  ] : []
  tags = local.tags
}

module "model_registry" {
  source = "../model-registry"
  count  = local.is_registry_account ? 1 : 0

  model_package_group_name    = var.model_package_group_name
  reader_account_ids          = var.workload_account_ids
  evidence_writer_account_ids = var.promotion_evidence_account_ids
  tags                        = local.tags
}

module "sagemaker_execution_role" {
  source = "../sagemaker-execution-role"

  role_name               = local.sagemaker_role_name
  bucket_name             = module.data_bucket.bucket_name
  bucket_prefixes         = [var.bucket_prefix]
  artifact_sources        = local.is_registry_account ? [] : [{ bucket_name = local.registry_bucket, prefixes = [var.bucket_prefix] }]
  kms_key_arns            = local.is_registry_account ? [module.kms_key.key_arn] : [module.kms_key.key_arn, local.registry_kms_key_arn]
  model_package_group_arn = local.registry_group_arn
  registry_access         = local.is_registry_account ? "register" : "read"
  network = var.subnet_id == null ? null : {
    subnet_ids         = [var.subnet_id]
    security_group_ids = [var.sg_id]
  }
  tags = local.tags
}

module "idempotency_table" {
  source = "../idempotency-table"

  table_name          = "batchops-${var.environment}-idempotency"
  kms_key_arn         = module.kms_key.key_arn
  deletion_protection = !var.sandbox
  tags                = local.tags
}

module "notifications" {
  source = "../notifications"

  topic_name       = "batchops-${var.environment}-notifications"
  kms_key_arn      = module.kms_key.key_arn
  email_recipients = var.email_recipient
  tags             = local.tags
}

module "trigger_secret" {
  source = "../trigger-secret"
  count  = local.is_registry_account ? 1 : 0

  secret_name             = var.gitlab_trigger_secret_name
  kms_key_arn             = module.kms_key.key_arn
  reader_role_arns        = ["${local.role_arn}/batchops-approval-trigger"]
  recovery_window_in_days = var.sandbox ? 0 : 30
  tags                    = local.tags
}
