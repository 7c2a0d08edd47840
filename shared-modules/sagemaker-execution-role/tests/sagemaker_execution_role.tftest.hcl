mock_provider "aws" {
  source = "../_mocks"
}

variables {
  role_name               = "batchops-data-science-sagemaker-execution"
  bucket_name             = "batchops-data-science-111111111111"
  bucket_prefixes         = ["pipeline_shared/batch-scoring"]
  kms_key_arns            = ["arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
  model_package_group_arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone"
  registry_access         = "register"
}

run "trusted_by_sagemaker_of_this_account_only" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Service == "sagemaker.amazonaws.com"
    error_message = "Only SageMaker may assume the role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "The trust must be bound to this account (confused deputy)."
  }
}

run "no_wildcard_actions_and_no_unscoped_writes" {
  command = plan

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement :
      alltrue([for a in flatten([s.Action]) : !endswith(a, ":*") && a != "*"])
    ])
    error_message = "No statement may use service:* or * actions."
  }

  assert {
    condition = toset([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid if flatten([s.Resource]) == ["*"]
    ]) == toset(["AuthenticateToEcr"])
    error_message = "Only ecr:GetAuthorizationToken (which cannot be scoped) may use Resource \"*\"."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadWriteProjectPrefixes"
    ]) == ["arn:aws:s3:::batchops-data-science-111111111111/pipeline_shared/batch-scoring/*"]
    error_message = "Object access must be limited to the project prefix."
  }
}

run "register_mode_may_create_model_packages" {
  command = plan

  assert {
    condition = contains(one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "RegisterModelVersions"
    ]), "sagemaker:CreateModelPackage")
    error_message = "The training account's role must register model versions."
  }

  assert {
    condition = contains(one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "RegisterModelVersions"
    ]), "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/*")
    error_message = "Model package versions of the group must be covered."
  }
}

run "read_mode_cannot_register_and_reads_artifacts_cross_account" {
  command = plan

  variables {
    role_name               = "batchops-staging-sagemaker-execution"
    bucket_name             = "batchops-staging-222222222222"
    registry_access         = "read"
    artifact_sources        = [{ bucket_name = "batchops-data-science-111111111111", prefixes = ["pipeline_shared/batch-scoring"] }]
    model_package_group_arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone"
  }

  assert {
    condition = length([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if contains(flatten([s.Action]), "sagemaker:CreateModelPackage")
    ]) == 0
    error_message = "Inference accounts must not register model versions."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "ReadArtifactsOfOtherAccounts"
    ]) == ["arn:aws:s3:::batchops-data-science-111111111111/pipeline_shared/batch-scoring/*"]
    error_message = "Artefacts of the registry account must be readable under their prefix only."
  }
}

run "vpc_permissions_only_with_network" {
  command = plan

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s if startswith(s.Sid, "AttachJobs")]) == 0
    error_message = "Without a network no EC2 permissions are granted."
  }
}

run "vpc_permissions_scoped_to_configured_subnets" {
  command = plan

  variables {
    network = { subnet_ids = ["subnet-0123456789abcdef0"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  assert {
    condition = contains(one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "AttachJobsToConfiguredSubnets"
    ]), "arn:aws:ec2:us-east-1:111111111111:subnet/subnet-0123456789abcdef0")
    error_message = "Network interfaces may only be created in the configured subnet."
  }
}

run "rejects_unknown_registry_access" {
  command = plan

  variables {
    registry_access = "admin"
  }

  expect_failures = [var.registry_access]
}

run "rejects_alias_as_kms_key" {
  command = plan

  variables {
    kms_key_arns = ["arn:aws:kms:us-east-1:111111111111:alias/batchops-data-science"]
  }

  expect_failures = [var.kms_key_arns]
}

run "rejects_wildcard_prefix" {
  command = plan

  variables {
    bucket_prefixes = ["*"]
  }

  expect_failures = [var.bucket_prefixes]
}

run "rejects_bad_subnet_id" {
  command = plan

  variables {
    network = { subnet_ids = ["my-subnet"], security_group_ids = ["sg-0123456789abcdef0"] }
  }

  expect_failures = [var.network]
}

run "rejects_mixed_case_group_arn" {
  command = plan

  variables {
    model_package_group_arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/Batchops-Abalone"
  }

  expect_failures = [var.model_package_group_arn]
}

run "rejects_bad_role_name" {
  command = plan

  variables {
    role_name = "role with spaces"
  }

  expect_failures = [var.role_name]
}

run "rejects_bad_bucket_name" {
  command = plan

  variables {
    bucket_name = "UPPER"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_artifact_source_without_prefix" {
  command = plan

  variables {
    artifact_sources = [{ bucket_name = "batchops-data-science-111111111111", prefixes = [] }]
  }

  expect_failures = [var.artifact_sources]
}
