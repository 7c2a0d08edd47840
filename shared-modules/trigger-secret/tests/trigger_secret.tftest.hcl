mock_provider "aws" {
  source = "../_mocks"
}

variables {
  secret_name      = "batchops/gitlab-trigger-token"
  kms_key_arn      = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  reader_role_arns = ["arn:aws:iam::111111111111:role/batchops-approval-trigger"]
}

run "secret_encrypted_and_without_a_value" {
  command = apply

  assert {
    condition     = aws_secretsmanager_secret.this.kms_key_id == var.kms_key_arn
    error_message = "The secret must be encrypted with the given key."
  }

  assert {
    condition     = output.secret_name == "batchops/gitlab-trigger-token"
    error_message = "secret_name output must be the secret's name."
  }
}

run "only_reader_roles_may_read" {
  command = apply

  assert {
    condition = one([
      for s in jsondecode(aws_secretsmanager_secret_policy.this.policy).Statement : s.Condition.StringNotLike["aws:PrincipalArn"]
      if s.Effect == "Deny"
    ]) == ["arn:aws:iam::111111111111:role/batchops-approval-trigger"]
    error_message = "Reading must be denied to every principal but the reader roles."
  }
}

run "rejects_empty_readers" {
  command = plan

  variables {
    reader_role_arns = []
  }

  expect_failures = [var.reader_role_arns]
}

run "rejects_recovery_window_not_allowed" {
  command = plan

  variables {
    recovery_window_in_days = 3
  }

  expect_failures = [var.recovery_window_in_days]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:s3:::batchops-data-science-111111111111"
  }

  expect_failures = [var.kms_key_arn]
}
