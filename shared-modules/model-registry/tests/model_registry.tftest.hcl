mock_provider "aws" {
  source = "../_mocks"
}

variables {
  model_package_group_name = "batchops-abalone"
  reader_account_ids       = ["333333333333", "222222222222"]
}

run "group_is_created_with_read_only_cross_account_policy" {
  command = apply

  assert {
    condition     = aws_sagemaker_model_package_group.this.model_package_group_name == "batchops-abalone"
    error_message = "The group must carry the configured name."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_sagemaker_model_package_group_policy.this[0].resource_policy).Statement : s.Action
    ])) == toset(["sagemaker:DescribeModelPackageGroup", "sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"])
    error_message = "Readers may only describe and list; approving or deleting stays in the registry account."
  }

  assert {
    condition = toset(flatten([
      for s in jsondecode(aws_sagemaker_model_package_group_policy.this[0].resource_policy).Statement : s.Principal.AWS
    ])) == toset(["arn:aws:iam::222222222222:root", "arn:aws:iam::333333333333:root"])
    error_message = "Exactly the reader accounts are granted."
  }

  assert {
    condition     = output.model_packages_arn_pattern == "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/*"
    error_message = "The model package ARN pattern must use the lower-case group name."
  }
}

run "no_policy_without_readers" {
  command = plan

  variables {
    reader_account_ids = []
  }

  assert {
    condition     = length(aws_sagemaker_model_package_group_policy.this) == 0
    error_message = "No resource policy is needed without reader accounts."
  }
}

run "rejects_bad_group_name" {
  command = plan

  variables {
    model_package_group_name = "-abalone_"
  }

  expect_failures = [var.model_package_group_name]
}

run "rejects_bad_reader_account" {
  command = plan

  variables {
    reader_account_ids = ["staging"]
  }

  expect_failures = [var.reader_account_ids]
}

run "rejects_overlong_description" {
  command = plan

  variables {
    description = format("%1030s", "x")
  }

  expect_failures = [var.description]
}

run "staging_may_record_promotion_evidence_and_nothing_more" {
  command = plan

  variables {
    evidence_writer_account_ids = ["222222222222"]
  }

  assert {
    condition = one([
      for s in jsondecode(aws_sagemaker_model_package_group_policy.this[0].resource_policy).Statement : s
      if s.Sid == "RecordPromotionEvidence"
      ]) == {
      Sid       = "RecordPromotionEvidence"
      Effect    = "Allow"
      Principal = { AWS = ["arn:aws:iam::222222222222:root"] }
      Action    = ["sagemaker:UpdateModelPackage"]
      Resource  = "arn:aws:sagemaker:us-east-1:111111111111:model-package/batchops-abalone/*"
    }
    error_message = "Only the evidence writer may update versions (not the group, not production)."
  }
}

run "rejects_an_evidence_writer_that_cannot_read" {
  command = plan

  variables {
    evidence_writer_account_ids = ["444444444444"]
  }

  expect_failures = [var.evidence_writer_account_ids]
}
