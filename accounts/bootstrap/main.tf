locals {
  account = jsondecode(file("${path.module}/../${var.environment}/terraform.tfvars.json"))
  # The account roots' backend.hcl names this bucket: batchops-tfstate-<account id>.
  state_bucket_name = "batchops-tfstate-${local.account.account_id}"
  role_names        = { plan = "batchops-terraform-plan", apply = "batchops-terraform-apply" }
  role_arn_prefix   = "arn:${data.aws_partition.current.partition}:iam::${local.account.account_id}:role"
}

data "aws_partition" "current" {}

# Once per account: IAM keeps one provider per URL (a second CreateOpenIDConnectProvider
# for the same URL fails with EntityAlreadyExists, IAM API reference). The client id list
# holds the audience CI requests (`id_tokens: aud: $CI_SERVER_URL`): AWS accepts a token only
# when its `aud` is one of the provider's client ids. No thumbprint: AWS verifies the
# issuer's TLS certificate against its trusted root CAs (CreateOpenIDConnectProvider).
resource "aws_iam_openid_connect_provider" "gitlab" {
  url            = local.account.gitlab_url
  client_id_list = [local.account.gitlab_url]
}

# The state key: only the two CI roles use it, and only through S3.
module "state_key" {
  source = "../../shared-modules/kms-key"

  alias_name            = "batchops-tfstate"
  description           = "batchops Terraform state of the ${var.environment} account"
  allow_cloudwatch_logs = false
  via_service_users = [{
    sid            = "TerraformStateThroughS3"
    principal_arns = [for name in values(local.role_names) : "${local.role_arn_prefix}/${name}"]
    services       = ["s3"]
    actions        = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
  }]
}

module "state_bucket" {
  source = "../../shared-modules/terraform-state"

  bucket_name   = local.state_bucket_name
  kms_key_arn   = module.state_key.key_arn
  force_destroy = var.sandbox
}

module "ci_roles" {
  source = "../../shared-modules/terraform-ci-roles"

  environment              = var.environment
  account_id               = local.account.account_id
  region                   = local.account.region
  gitlab_url               = local.account.gitlab_url
  gitlab_project_path      = local.account.gitlab_project
  oidc_provider_arn        = aws_iam_openid_connect_provider.gitlab.arn
  state_bucket_name        = module.state_bucket.bucket_name
  state_kms_key_arn        = module.state_key.key_arn
  data_bucket_name         = local.account.bucket_name
  registry_account_id      = local.account.registry_account_id
  model_package_group_name = local.account.model_package_group_name
  plan_role_name           = local.role_names.plan
  apply_role_name          = local.role_names.apply
}
