data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  role_arn   = "arn:${local.partition}:iam::${local.account_id}:role/${var.role_name}"
  bucket_arn = "arn:${local.partition}:s3:::${var.bucket_name}"
  sagemaker  = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"

  prefixes = [for p in var.bucket_prefixes : trim(p, "/")]
  # A model package ARN is the group ARN with model-package/ instead of model-package-group/.
  model_packages_arn = "${replace(var.model_package_group_arn, ":model-package-group/", ":model-package/")}/*"

  job_actions = [
    "sagemaker:AddTags",
    "sagemaker:CreateHyperParameterTuningJob",
    "sagemaker:CreateModel",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateTransformJob",
    "sagemaker:DescribeHyperParameterTuningJob",
    "sagemaker:DescribeModel",
    "sagemaker:DescribeProcessingJob",
    "sagemaker:DescribeTrainingJob",
    "sagemaker:DescribeTransformJob",
    "sagemaker:ListTags",
    "sagemaker:StopHyperParameterTuningJob",
    "sagemaker:StopProcessingJob",
    "sagemaker:StopTrainingJob",
    "sagemaker:StopTransformJob",
  ]
  registry_read_actions = ["sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup", "sagemaker:ListModelPackages"]

  candidate_statements = [
    {
      include = true
      statement = {
        Sid      = "ListDataBucket"
        Effect   = "Allow"
        Action   = ["s3:GetBucketLocation", "s3:ListBucket"]
        Resource = local.bucket_arn
      }
    },
    {
      include = true
      statement = {
        Sid      = "ReadWriteProjectPrefixes"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:PutObject"]
        Resource = [for p in local.prefixes : "${local.bucket_arn}/${p}/*"]
      }
    },
    {
      include = length(var.artifact_sources) > 0
      statement = {
        Sid      = "ReadArtifactsOfOtherAccounts"
        Effect   = "Allow"
        Action   = "s3:GetObject"
        Resource = flatten([for s in var.artifact_sources : [for p in s.prefixes : "arn:${local.partition}:s3:::${s.bucket_name}/${trim(p, "/")}/*"]])
      }
    },
    {
      include = length(var.artifact_sources) > 0
      statement = {
        Sid      = "ListArtifactsOfOtherAccounts"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = [for s in var.artifact_sources : "arn:${local.partition}:s3:::${s.bucket_name}"]
        Condition = {
          StringLike = { "s3:prefix" = distinct(flatten([for s in var.artifact_sources : [for p in s.prefixes : "${trim(p, "/")}/*"]])) }
        }
      }
    },
    {
      include = true
      statement = {
        Sid      = "UseDataKeys"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo"]
        Resource = sort(distinct(var.kms_key_arns))
      }
    },
    {
      include = true
      statement = {
        Sid       = "GrantKeysToJobVolumes"
        Effect    = "Allow"
        Action    = "kms:CreateGrant"
        Resource  = sort(distinct(var.kms_key_arns))
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
      }
    },
    {
      include = true
      statement = {
        Sid    = "RunPipelineJobs"
        Effect = "Allow"
        Action = local.job_actions
        Resource = [
          "${local.sagemaker}:hyper-parameter-tuning-job/*",
          "${local.sagemaker}:model/*",
          "${local.sagemaker}:processing-job/*",
          "${local.sagemaker}:training-job/*",
          "${local.sagemaker}:transform-job/*",
        ]
      }
    },
    {
      include = var.registry_access == "register"
      statement = {
        Sid      = "RegisterModelVersions"
        Effect   = "Allow"
        Action   = concat(["sagemaker:CreateModelPackage"], local.registry_read_actions)
        Resource = [var.model_package_group_arn, local.model_packages_arn]
      }
    },
    {
      include = var.registry_access == "read"
      statement = {
        Sid      = "ReadModelVersions"
        Effect   = "Allow"
        Action   = local.registry_read_actions
        Resource = [var.model_package_group_arn, local.model_packages_arn]
      }
    },
    {
      include = true
      statement = {
        Sid       = "PassOwnRoleToJobs"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = local.role_arn
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      }
    },
    {
      include = true
      statement = {
        Sid    = "WriteJobLogs"
        Effect = "Allow"
        Action = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
        Resource = [
          "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*",
          "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/*:log-stream:*",
        ]
      }
    },
    {
      # GetAuthorizationToken cannot be scoped to a resource.
      include = true
      statement = {
        Sid      = "AuthenticateToEcr"
        Effect   = "Allow"
        Action   = "ecr:GetAuthorizationToken"
        Resource = "*"
      }
    },
    {
      # The SageMaker framework images (xgboost, scikit-learn, model monitor) live in
      # AWS-owned accounts that differ per region.
      include = true
      statement = {
        Sid      = "PullSageMakerImages"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = "arn:${local.partition}:ecr:${local.region}:*:repository/sagemaker-*"
      }
    },
    {
      include = var.network != null
      statement = {
        Sid      = "DescribeNetwork"
        Effect   = "Allow"
        Action   = ["ec2:DescribeDhcpOptions", "ec2:DescribeNetworkInterfaces", "ec2:DescribeSecurityGroups", "ec2:DescribeSubnets", "ec2:DescribeVpcs"]
        Resource = "*"
      }
    },
    {
      include = var.network != null
      statement = {
        Sid    = "AttachJobsToConfiguredSubnets"
        Effect = "Allow"
        Action = ["ec2:CreateNetworkInterface"]
        Resource = concat(
          ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"],
          [for id in try(var.network.subnet_ids, []) : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:subnet/${id}"],
          [for id in try(var.network.security_group_ids, []) : "arn:${local.partition}:ec2:${local.region}:${local.account_id}:security-group/${id}"],
        )
      }
    },
    {
      include = var.network != null
      statement = {
        Sid      = "ManageJobNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission"]
        Resource = "arn:${local.partition}:ec2:${local.region}:${local.account_id}:network-interface/*"
      }
    },
  ]
  policy_statements = [for c in local.candidate_statements : c.statement if c.include]
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "SageMaker pipelines of this account run their jobs as this role."
  max_session_duration = 43200
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SageMakerOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "sagemaker.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name   = "pipeline-jobs"
  role   = aws_iam_role.this.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.policy_statements })
}
