# Every account root is this file with its own terraform.tfvars.json and backend.hcl:
# shared defaults are defined once (accounts/_shared), values per account.
module "account" {
  source = "../../shared-modules/batchops-account"

  environment          = var.environment
  account_id           = var.account_id
  region               = var.region
  registry_account_id  = var.registry_account_id
  registry_kms_key_arn = var.registry_kms_key_arn
  workload_account_ids = var.workload_account_ids

  promotion_evidence_account_ids = var.promotion_evidence_account_ids

  bucket_name                = var.bucket_name
  bucket_prefix              = var.bucket_prefix
  bucket_train_prefix        = var.bucket_train_prefix
  bucket_inf_prefix          = var.bucket_inf_prefix
  notification_function_name = var.notification_function_name
  custom_notification_config = var.custom_notification_config
  email_recipient            = var.email_recipient
  pipeline_inf               = var.pipeline_inf
  pipeline_train             = var.pipeline_train
  pipeline_trainwhpo         = var.pipeline_trainwhpo
  model_package_group_name   = var.model_package_group_name
  subnet_id                  = var.subnet_id
  sg_id                      = var.sg_id
  user_id                    = var.user_id

  access_role_name           = var.access_role_name
  gitlab_url                 = var.gitlab_url
  gitlab_api_url             = var.gitlab_api_url
  gitlab_project             = var.gitlab_project
  gitlab_trigger_secret_name = var.gitlab_trigger_secret_name
  deploy_allowed_refs        = var.deploy_allowed_refs
  training_schedule          = var.training_schedule
  inference_schedule         = var.inference_schedule
  function_packages_dir      = coalesce(var.function_packages_dir, "${path.root}/../../dist/functions")
  patterns_dir               = "${path.root}/../../src/batchops/events"
  sandbox                    = var.sandbox
}
