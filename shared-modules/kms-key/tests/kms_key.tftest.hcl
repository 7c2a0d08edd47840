mock_provider "aws" {
  source = "../_mocks"
}

variables {
  alias_name             = "batchops-data-science"
  user_arns              = ["arn:aws:iam::111111111111:role/batchops-deploy", "arn:aws:iam::111111111111:role/batchops-data-science-sagemaker-execution"]
  service_principals     = ["events.amazonaws.com"]
  s3_decrypt_account_ids = ["222222222222", "333333333333"]
}

run "rotation_on_and_alias_named" {
  command = apply

  assert {
    condition     = aws_kms_key.this.enable_key_rotation
    error_message = "Key rotation must be enabled."
  }

  assert {
    condition     = aws_kms_alias.this.name == "alias/batchops-data-science"
    error_message = "Alias must be alias/<alias_name>."
  }

  assert {
    condition     = output.key_arn == "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "key_arn output must be the key's ARN."
  }
}

run "account_iam_administers_but_cannot_use_data" {
  command = plan

  assert {
    condition = alltrue([
      for s in jsondecode(aws_kms_key.this.policy).Statement :
      length(setintersection(toset(flatten([s.Action])), toset(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:*"]))) == 0
      if s.Sid == "KeyAdministrationThroughAccountIam"
    ])
    error_message = "The account root statement must not grant data access (Encrypt/Decrypt/GenerateDataKey) or kms:*."
  }

  assert {
    condition = length([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s
      if contains(flatten([s.Action]), "kms:*")
    ]) == 0
    error_message = "No statement may grant kms:*."
  }
}

run "only_listed_roles_use_the_key" {
  command = plan

  assert {
    condition = toset(one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.ArnEquals["aws:PrincipalArn"]
      if s.Sid == "KeyUsageByWorkloadRoles"
    ])) == toset(var.user_arns)
    error_message = "Key usage must be granted to exactly the user_arns roles."
  }
}

run "cross_account_decrypt_only_through_s3" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.StringEquals["kms:ViaService"]
      if s.Sid == "CrossAccountDecryptThroughS3"
    ]) == "s3.us-east-1.amazonaws.com"
    error_message = "Other accounts may decrypt only via S3."
  }
}

run "no_optional_statements_without_inputs" {
  command = plan

  variables {
    user_arns              = []
    service_principals     = []
    s3_decrypt_account_ids = []
    allow_cloudwatch_logs  = false
  }

  assert {
    condition     = length(jsondecode(aws_kms_key.this.policy).Statement) == 1
    error_message = "Only the administration statement remains when nothing else is requested."
  }
}

run "rejects_aws_reserved_alias" {
  command = plan

  variables {
    alias_name = "aws/s3"
  }

  expect_failures = [var.alias_name]
}

run "rejects_deletion_window_out_of_range" {
  command = plan

  variables {
    deletion_window_in_days = 3
  }

  expect_failures = [var.deletion_window_in_days]
}

run "rejects_non_role_user" {
  command = plan

  variables {
    user_arns = ["arn:aws:iam::111111111111:user/alice"]
  }

  expect_failures = [var.user_arns]
}

run "rejects_non_service_principal" {
  command = plan

  variables {
    service_principals = ["events"]
  }

  expect_failures = [var.service_principals]
}

run "rejects_bad_account_id" {
  command = plan

  variables {
    s3_decrypt_account_ids = ["12345"]
  }

  expect_failures = [var.s3_decrypt_account_ids]
}

run "terraform_apply_role_uses_the_key_only_through_services" {
  command = plan

  variables {
    via_service_users = [{
      sid            = "TerraformApplyThroughServices"
      principal_arns = ["arn:aws:iam::111111111111:role/batchops-terraform-apply"]
      services       = ["dynamodb", "lambda", "sqs", "secretsmanager"]
      actions        = ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    }]
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.StringEquals["kms:ViaService"]
      if s.Sid == "TerraformApplyThroughServices"
      ]) == [
      "dynamodb.us-east-1.amazonaws.com", "lambda.us-east-1.amazonaws.com",
      "secretsmanager.us-east-1.amazonaws.com", "sqs.us-east-1.amazonaws.com",
    ]
    error_message = "The apply role may use the key only through DynamoDB, Lambda, Secrets Manager and SQS."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Condition.ArnEquals["aws:PrincipalArn"]
      if s.Sid == "TerraformApplyThroughServices"
    ]) == ["arn:aws:iam::111111111111:role/batchops-terraform-apply"]
    error_message = "Only the apply role gets the through-service usage."
  }
}

run "other_accounts_may_describe_the_key" {
  command = plan

  variables {
    describe_account_ids = ["333333333333", "222222222222"]
  }

  assert {
    condition = one([
      for s in jsondecode(aws_kms_key.this.policy).Statement : s.Principal.AWS
      if s.Sid == "DescribeFromOtherAccounts"
    ]) == ["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"]
    error_message = "Staging and production must be able to describe the registry key by alias ARN."
  }
}

run "rejects_kms_star_and_non_role_service_users" {
  command = plan

  variables {
    via_service_users = [{
      sid            = "Everything"
      principal_arns = ["arn:aws:iam::111111111111:user/alice"]
      services       = ["dynamodb"]
      actions        = ["kms:*"]
    }]
  }

  expect_failures = [var.via_service_users]
}
