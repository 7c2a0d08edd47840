data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}:sagemaker:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  # SageMaker puts group names in ARNs in lower case.
  group_arn          = "${local.arn_prefix}:model-package-group/${lower(var.model_package_group_name)}"
  model_packages_arn = "${local.arn_prefix}:model-package/${lower(var.model_package_group_name)}/*"
}

resource "aws_sagemaker_model_package_group" "this" {
  model_package_group_name        = var.model_package_group_name
  model_package_group_description = var.description
  tags                            = var.tags
}

# Cross-account access: the workload accounts resolve the approved version and create
# their model from it; staging also records its runs on the versions (promotion evidence,
# read by production's deploy). Approving, registering and deleting stay in this account.
resource "aws_sagemaker_model_package_group_policy" "this" {
  count = length(var.reader_account_ids) > 0 ? 1 : 0

  model_package_group_name = aws_sagemaker_model_package_group.this.model_package_group_name
  resource_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid       = "ReadModelPackageGroup"
        Effect    = "Allow"
        Principal = { AWS = [for id in sort(distinct(var.reader_account_ids)) : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
        # ListModelPackages names the group; which ARN IAM checks it against is not
        # documented consistently, so both statements grant it
        Action   = ["sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"]
        Resource = local.group_arn
      },
      {
        Sid       = "ReadModelPackages"
        Effect    = "Allow"
        Principal = { AWS = [for id in sort(distinct(var.reader_account_ids)) : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
        Action    = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
        Resource  = local.model_packages_arn
      },
      ], length(var.evidence_writer_account_ids) == 0 ? [] : [
      {
        Sid       = "RecordPromotionEvidence"
        Effect    = "Allow"
        Principal = { AWS = [for id in sort(distinct(var.evidence_writer_account_ids)) : "arn:${data.aws_partition.current.partition}:iam::${id}:root"] }
        Action    = ["sagemaker:UpdateModelPackage"]
        Resource  = local.model_packages_arn
      },
    ])
  })
}
