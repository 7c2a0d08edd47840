# The two roles CI runs Terraform with in one account (accounts/bootstrap creates them):
#
# * plan  - read-only (AWS managed ReadOnlyAccess) plus what the S3 backend needs to read the
#           state and hold its lock file; trusted by every branch of the project, because
#           merge-request pipelines run on their source branch and AWS cannot see GitLab's
#           pipeline_source for a self-managed provider (only :aud and :sub are condition
#           keys). It may not read the data bucket's objects or any secret value.
# * apply - changes the resources the account roots own, named batchops-*, and nothing of
#           the bootstrap (its own roles, the OIDC provider, the state bucket and key);
#           trusted by main only, and in production only by a job of the protected
#           environment infrastructure/production (deployment tier "other", so that its
#           subject differs from the model deploy job's in the production environment).
#
# S3 backend permissions: s3:ListBucket on the bucket, s3:GetObject/PutObject on the state
# key, s3:GetObject/PutObject/DeleteObject on `<key>.tflock` (Terraform S3 backend docs).
data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition
  # arn:<partition>:<service>:<region>:<account> prefixes (IAM is global: no region).
  arn = { for svc in ["iam", "kms", "lambda", "logs", "sqs", "sns", "dynamodb", "secretsmanager", "sagemaker", "events", "scheduler"] :
    svc => "arn:${local.partition}:${svc}:${svc == "iam" ? "" : var.region}:${var.account_id}"
  }

  state_bucket_arn = "arn:${local.partition}:s3:::${var.state_bucket_name}"
  data_bucket_arn  = "arn:${local.partition}:s3:::${var.data_bucket_name}"
  oidc_host        = trimprefix(var.gitlab_url, "https://")

  state_statements = [
    {
      Sid      = "ListStateBucket"
      Effect   = "Allow"
      Action   = "s3:ListBucket"
      Resource = local.state_bucket_arn
    },
    {
      Sid      = "StateAndLockFiles"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
      Resource = ["${local.state_bucket_arn}/${var.state_key_prefix}*.tfstate.tflock"]
    },
    {
      Sid      = "UseStateKeyThroughS3"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"]
      Resource = var.state_kms_key_arn
      Condition = {
        StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" }
      }
    },
  ]

  plan_statements = concat(local.state_statements, [
    {
      # Reading a function's configuration needs the key that encrypts it (Lambda guide:
      # "only users with access to the KMS key can view or manage the function").
      Sid      = "ReadFunctionConfigurations"
      Effect   = "Allow"
      Action   = ["kms:Decrypt", "kms:DescribeKey"]
      Resource = "${local.arn.kms}:key/*"
      Condition = {
        StringEquals = { "kms:ViaService" = "lambda.${var.region}.amazonaws.com" }
      }
    },
    {
      Sid      = "ReadState"
      Effect   = "Allow"
      Action   = "s3:GetObject"
      Resource = ["${local.state_bucket_arn}/${var.state_key_prefix}*"]
    },
    {
      Sid      = "NoDataObjectsNoSecretValues"
      Effect   = "Deny"
      Action   = ["s3:GetObject", "s3:GetObjectVersion", "secretsmanager:GetSecretValue"]
      Resource = ["${local.data_bucket_arn}/*", "arn:${local.partition}:secretsmanager:${var.region}:${var.account_id}:secret:*"]
    },
    {
      Sid      = "NoBootstrapState"
      Effect   = "Deny"
      Action   = "s3:*"
      Resource = ["${local.state_bucket_arn}/batchops/bootstrap/*"]
    },
  ])

  apply_statements = concat(local.state_statements, [
    {
      Sid      = "ReadAndWriteState"
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject"]
      Resource = ["${local.state_bucket_arn}/${var.state_key_prefix}*.tfstate"]
    },
    {
      Sid    = "DataBucket"
      Effect = "Allow"
      Action = [
        "s3:CreateBucket", "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:Get*", "s3:ListBucket",
        "s3:PutBucket*", "s3:PutEncryptionConfiguration", "s3:PutLifecycleConfiguration",
      ]
      Resource = local.data_bucket_arn
    },
    {
      Sid      = "CreateTaggedKeys"
      Effect   = "Allow"
      Action   = ["kms:CreateKey", "kms:ListAliases"]
      Resource = "*"
    },
    {
      Sid    = "ManageKeys"
      Effect = "Allow"
      Action = [
        "kms:CreateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:EnableKeyRotation", "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus", "kms:ListResourceTags", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
        "kms:TagResource", "kms:UntagResource", "kms:UpdateAlias", "kms:UpdateKeyDescription",
      ]
      Resource = ["${local.arn.kms}:key/*", "${local.arn.kms}:alias/batchops-*"]
    },
    {
      # The account key's policy grants the same through these services (kms-key module's
      # via_service_users); a key policy naming the account root needs the IAM side too.
      Sid      = "UseAccountKeysThroughServices"
      Effect   = "Allow"
      Action   = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
      Resource = "${local.arn.kms}:key/*"
      Condition = {
        StringEquals = { "kms:ViaService" = [for s in ["dynamodb", "lambda", "secretsmanager", "sqs"] : "${s}.${var.region}.amazonaws.com"] }
      }
    },
    {
      Sid      = "DescribeTheRegistryKey"
      Effect   = "Allow"
      Action   = "kms:DescribeKey"
      Resource = "arn:${local.partition}:kms:${var.region}:${var.registry_account_id}:key/*"
    },
    {
      Sid    = "ManageRoles"
      Effect = "Allow"
      Action = [
        "iam:CreateRole", "iam:DeleteRole", "iam:DeleteRolePolicy", "iam:GetRole", "iam:GetRolePolicy",
        "iam:ListAttachedRolePolicies", "iam:ListInstanceProfilesForRole", "iam:ListRolePolicies", "iam:ListRoleTags",
        "iam:PutRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole",
        "iam:UpdateRoleDescription",
      ]
      Resource = "${local.arn.iam}:role/batchops-*"
    },
    {
      Sid      = "PassRolesToTheirServices"
      Effect   = "Allow"
      Action   = "iam:PassRole"
      Resource = "${local.arn.iam}:role/batchops-*"
      Condition = {
        StringEquals = { "iam:PassedToService" = ["events.amazonaws.com", "lambda.amazonaws.com", "scheduler.amazonaws.com"] }
      }
    },
    {
      Sid      = "FindTheGitLabProvider"
      Effect   = "Allow"
      Action   = "iam:ListOpenIDConnectProviders"
      Resource = "*"
    },
    {
      Sid      = "ReadTheGitLabProvider"
      Effect   = "Allow"
      Action   = "iam:GetOpenIDConnectProvider"
      Resource = "${local.arn.iam}:oidc-provider/${local.oidc_host}"
    },
    {
      Sid    = "Functions"
      Effect = "Allow"
      Action = [
        "lambda:AddPermission", "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:Get*", "lambda:ListTags",
        "lambda:ListVersionsByFunction", "lambda:RemovePermission", "lambda:TagResource", "lambda:UntagResource",
        "lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
      ]
      Resource = "${local.arn.lambda}:function:batchops-*"
    },
    {
      Sid    = "FunctionLogs"
      Effect = "Allow"
      Action = [
        "logs:AssociateKmsKey", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:DisassociateKmsKey",
        "logs:ListTagsForResource", "logs:PutRetentionPolicy", "logs:TagResource", "logs:UntagResource",
      ]
      Resource = "${local.arn.logs}:log-group:/aws/lambda/batchops-*"
    },
    {
      Sid      = "FindLogGroups"
      Effect   = "Allow"
      Action   = "logs:DescribeLogGroups"
      Resource = "${local.arn.logs}:log-group:*"
    },
    {
      Sid    = "DeadLetterQueues"
      Effect = "Allow"
      Action = [
        "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:GetQueueAttributes", "sqs:ListQueueTags", "sqs:SetQueueAttributes",
        "sqs:TagQueue", "sqs:UntagQueue",
      ]
      Resource = "${local.arn.sqs}:batchops-*"
    },
    {
      Sid    = "NotificationTopics"
      Effect = "Allow"
      Action = [
        "sns:CreateTopic", "sns:DeleteTopic", "sns:GetSubscriptionAttributes", "sns:GetTopicAttributes",
        "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource", "sns:SetSubscriptionAttributes",
        "sns:SetTopicAttributes", "sns:Subscribe", "sns:TagResource", "sns:Unsubscribe", "sns:UntagResource",
      ]
      Resource = "${local.arn.sns}:batchops-*"
    },
    {
      Sid    = "IdempotencyTables"
      Effect = "Allow"
      Action = [
        "dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable",
        "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource", "dynamodb:TagResource", "dynamodb:UntagResource",
        "dynamodb:UpdateContinuousBackups", "dynamodb:UpdateTable", "dynamodb:UpdateTimeToLive",
      ]
      Resource = "${local.arn.dynamodb}:table/batchops-*"
    },
    {
      # The secret is created empty: `batchops gitlab configure` writes its value, so the
      # apply role never needs GetSecretValue or PutSecretValue.
      Sid    = "TriggerSecretWithoutItsValue"
      Effect = "Allow"
      Action = [
        "secretsmanager:CreateSecret", "secretsmanager:DeleteResourcePolicy", "secretsmanager:DeleteSecret",
        "secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy", "secretsmanager:PutResourcePolicy",
        "secretsmanager:TagResource", "secretsmanager:UntagResource", "secretsmanager:UpdateSecret",
      ]
      Resource = "${local.arn.secretsmanager}:secret:batchops/*"
    },
    {
      Sid    = "ModelRegistry"
      Effect = "Allow"
      Action = [
        "sagemaker:AddTags", "sagemaker:CreateModelPackageGroup", "sagemaker:DeleteModelPackageGroup",
        "sagemaker:DeleteModelPackageGroupPolicy", "sagemaker:DeleteTags", "sagemaker:DescribeModelPackageGroup",
        "sagemaker:GetModelPackageGroupPolicy", "sagemaker:ListTags", "sagemaker:PutModelPackageGroupPolicy",
      ]
      Resource = "${local.arn.sagemaker}:model-package-group/${lower(var.model_package_group_name)}"
    },
    {
      Sid    = "EventRules"
      Effect = "Allow"
      Action = [
        "events:DeleteRule", "events:DescribeRule", "events:DisableRule", "events:EnableRule", "events:ListTagsForResource",
        "events:ListTargetsByRule", "events:PutRule", "events:PutTargets", "events:RemoveTargets", "events:TagResource",
        "events:UntagResource",
      ]
      Resource = "${local.arn.events}:rule/batchops-*"
    },
    {
      Sid      = "DefaultBusPolicy"
      Effect   = "Allow"
      Action   = ["events:DescribeEventBus", "events:PutPermission", "events:RemovePermission"]
      Resource = "${local.arn.events}:event-bus/default"
    },
    {
      Sid      = "PipelineSchedules"
      Effect   = "Allow"
      Action   = ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule"]
      Resource = "${local.arn.scheduler}:schedule/default/batchops-*"
    },
    {
      # Explicit Deny wins over every Allow above (IAM policy evaluation): the apply role
      # cannot change the bootstrap that governs it.
      Sid      = "NotTheBootstrapRoles"
      Effect   = "Deny"
      Action   = "iam:*"
      Resource = ["${local.arn.iam}:role/${var.plan_role_name}", "${local.arn.iam}:role/${var.apply_role_name}"]
    },
    {
      Sid      = "NotTheBootstrapKeyOrProvider"
      Effect   = "Deny"
      Action   = ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "iam:DeleteOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider", "iam:RemoveClientIDFromOpenIDConnectProvider"]
      Resource = [var.state_kms_key_arn, "${local.arn.iam}:oidc-provider/${local.oidc_host}"]
    },
    {
      Sid      = "NotTheBootstrapState"
      Effect   = "Deny"
      Action   = "s3:*"
      Resource = ["${local.state_bucket_arn}/batchops/bootstrap/*"]
    },
  ])
}

module "plan_trust" {
  source = "../gitlab-oidc-trust"

  gitlab_url          = var.gitlab_url
  oidc_provider_arn   = var.oidc_provider_arn
  gitlab_project_path = var.gitlab_project_path
  any_branch          = true
}

module "apply_trust" {
  source = "../gitlab-oidc-trust"

  gitlab_url          = var.gitlab_url
  oidc_provider_arn   = var.oidc_provider_arn
  gitlab_project_path = var.gitlab_project_path
  allowed_refs        = [{ ref_type = "branch", ref = "main" }]
  # infrastructure/production has tier "other" so that this role and the production deploy
  # role (tier production) trust different protected environments (.gitlab/ci/infrastructure.yml).
  protected_environment_tier = var.environment == "production" ? "other" : null
}

resource "aws_iam_role" "plan" {
  name                 = var.plan_role_name
  description          = "terraform plan from GitLab CI of ${var.gitlab_project_path} (any branch: merge requests); read-only."
  max_session_duration = 3600
  assume_role_policy   = module.plan_trust.policy_json
  # CKV_BATCHOPS_10 allows an any-branch trust only on roles marked read-only.
  tags = merge(var.tags, { "batchops:ci-access" = "read-only" })
}

resource "aws_iam_role_policy_attachment" "plan_read_only" {
  role       = aws_iam_role.plan.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/ReadOnlyAccess"
}

resource "aws_iam_role_policy" "plan" {
  name   = "${var.plan_role_name}-state"
  role   = aws_iam_role.plan.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.plan_statements })
}

resource "aws_iam_role" "apply" {
  name                 = var.apply_role_name
  description          = "terraform apply from GitLab CI of ${var.gitlab_project_path} on main${var.environment == "production" ? " in the protected production environment" : ""}."
  max_session_duration = 3600
  assume_role_policy   = module.apply_trust.policy_json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "apply" {
  name   = "${var.apply_role_name}-resources"
  role   = aws_iam_role.apply.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.apply_statements })
}
