# tests/placeholder.zip is written by the test harness (tests/infra/tfharness.py), not committed.
mock_provider "aws" {
  source = "../_mocks"
}

variables {
  function_name = "batchops-notify"
  handler       = "batchops.functions.notify.handler"
  filename      = "tests/placeholder.zip"
  kms_key_arn   = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  environment_variables = {
    BATCHOPS_ENVIRONMENT = "data-science"
  }
  policy_statements = [{
    sid       = "PublishNotifications"
    actions   = ["sns:Publish"]
    resources = ["arn:aws:sns:us-east-1:111111111111:batchops-data-science-notifications"]
  }]
}

run "function_from_the_zip_with_dlq_tracing_and_encrypted_env" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256("tests/placeholder.zip")
    error_message = "The code hash must follow the zip's content."
  }

  assert {
    condition     = one(aws_lambda_function.this.dead_letter_config).target_arn == aws_sqs_queue.dead_letter.arn
    error_message = "Failed events must go to the function's dead-letter queue."
  }

  assert {
    condition     = aws_lambda_function.this.kms_key_arn == var.kms_key_arn && aws_sqs_queue.dead_letter.kms_master_key_id == var.kms_key_arn
    error_message = "Environment variables and the DLQ must be encrypted with the given key."
  }

  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active" && aws_lambda_function.this.runtime == "python3.12"
    error_message = "Tracing must be active and the runtime python3.12 by default."
  }
}

run "log_group_encrypted_with_retention" {
  command = plan

  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/lambda/batchops-notify" && aws_cloudwatch_log_group.this.retention_in_days == 365 && aws_cloudwatch_log_group.this.kms_key_id == var.kms_key_arn
    error_message = "The log group must be the function's, kept 365 days by default and KMS-encrypted."
  }
}

run "role_writes_only_its_own_logs_and_gets_the_extra_statements" {
  command = apply

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Resource if s.Sid == "OwnLogGroup"
    ]) == ["arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/batchops-notify:*"]
    error_message = "The function may write only to its own log group."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Action if s.Sid == "PublishNotifications"
    ]) == ["sns:Publish"]
    error_message = "policy_statements must be added to the role's policy."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "Only Lambda acting for this account may assume the role."
  }
}

run "rejects_retention_not_allowed" {
  command = plan

  variables {
    log_retention_in_days = 45
  }

  expect_failures = [var.log_retention_in_days]
}

run "rejects_wildcard_statement" {
  command = plan

  variables {
    policy_statements = [{ sid = "Everything", actions = ["s3:*"], resources = ["*"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_missing_zip" {
  command = plan

  variables {
    filename = "tests/does-not-exist.zip"
  }

  expect_failures = [aws_lambda_function.this]
}

run "rejects_bad_handler_runtime_and_name" {
  command = plan

  variables {
    handler       = "notify"
    runtime       = "nodejs20.x"
    function_name = "batchops notify"
    filename      = "notify.tar.gz"
    timeout       = 901
    memory_size   = 64
  }

  expect_failures = [var.handler, var.runtime, var.function_name, var.filename, var.timeout, var.memory_size]
}
