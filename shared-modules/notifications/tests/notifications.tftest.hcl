mock_provider "aws" {
  source = "../_mocks"
}

variables {
  topic_name       = "batchops-production-notifications"
  kms_key_arn      = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  email_recipients = ["ml-engineering@example.com", "oncall@example.com"]
}

run "topic_encrypted_with_one_email_subscription_per_recipient" {
  command = apply

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == var.kms_key_arn
    error_message = "The topic must be encrypted with the given key."
  }

  assert {
    condition     = length(aws_sns_topic_subscription.email) == 2 && alltrue([for s in aws_sns_topic_subscription.email : s.protocol == "email"])
    error_message = "Each recipient needs exactly one e-mail subscription."
  }

  assert {
    condition     = output.subscribed_emails == tolist(["ml-engineering@example.com", "oncall@example.com"])
    error_message = "subscribed_emails must list the recipients."
  }
}

run "publishing_limited_to_this_account_over_tls" {
  command = apply

  assert {
    condition     = jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Principal.AWS == "arn:aws:iam::111111111111:root"
    error_message = "Only this account may publish."
  }

  assert {
    condition     = jsondecode(aws_sns_topic_policy.this.policy).Statement[1].Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "Publishing without TLS must be denied."
  }
}

run "rejects_empty_email" {
  command = plan

  variables {
    email_recipients = [""]
  }

  expect_failures = [var.email_recipients]
}

run "rejects_no_recipients" {
  command = plan

  variables {
    email_recipients = []
  }

  expect_failures = [var.email_recipients]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "alias/batchops-production"
  }

  expect_failures = [var.kms_key_arn]
}
