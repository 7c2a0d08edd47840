mock_provider "aws" {
  source = "../_mocks"
}

variables {
  bucket_name = "batchops-data-science-111111111111"
  kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  cross_account_readers = [
    { account_id = "222222222222", prefixes = ["pipeline_shared/batch-scoring/models"] },
  ]
  expiring_prefixes = [{ prefix = "tmp/", days = 3 }]
}

run "encrypted_with_our_key_and_private" {
  command = apply

  assert {
    condition     = one([for rule in aws_s3_bucket_server_side_encryption_configuration.this.rule : one(rule.apply_server_side_encryption_by_default).kms_master_key_id]) == var.kms_key_arn
    error_message = "Default encryption must use the given KMS key."
  }

  assert {
    condition     = one([for rule in aws_s3_bucket_server_side_encryption_configuration.this.rule : one(rule.apply_server_side_encryption_by_default).sse_algorithm]) == "aws:kms"
    error_message = "Default encryption must be aws:kms."
  }

  assert {
    condition = alltrue([
      aws_s3_bucket_public_access_block.this.block_public_acls,
      aws_s3_bucket_public_access_block.this.block_public_policy,
      aws_s3_bucket_public_access_block.this.ignore_public_acls,
      aws_s3_bucket_public_access_block.this.restrict_public_buckets,
    ])
    error_message = "All four public access block settings must be on."
  }

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning must be enabled."
  }

  assert {
    condition     = aws_s3_bucket_notification.this.eventbridge
    error_message = "EventBridge notifications must be on by default."
  }
}

run "policy_is_tls_only_and_pins_the_key" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Condition.Bool["aws:SecureTransport"]
      if s.Sid == "DenyInsecureTransport" && s.Effect == "Deny"
    ]) == "false"
    error_message = "The bucket policy must deny requests without TLS."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Condition.StringNotEqualsIfExists["s3:x-amz-server-side-encryption-aws-kms-key-id"]
      if s.Sid == "DenyUploadsUnderAnotherKey"
    ]) == var.kms_key_arn
    error_message = "Uploads under another KMS key must be denied."
  }
}

run "cross_account_read_is_scoped_to_prefixes" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Resource
      if s.Sid == "CrossAccountRead222222222222"
    ]) == ["arn:aws:s3:::batchops-data-science-111111111111/pipeline_shared/batch-scoring/models/*"]
    error_message = "Cross-account GetObject must be limited to the listed prefixes."
  }

  assert {
    condition = length([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s
      if s.Effect == "Allow" && contains(flatten([s.Action]), "s3:PutObject")
    ]) == 0
    error_message = "No other account may write."
  }
}

run "lifecycle_expires_old_versions_and_scratch_prefixes" {
  command = plan

  assert {
    condition     = [for rule in aws_s3_bucket_lifecycle_configuration.this.rule : rule.id] == ["housekeeping", "expire-tmp"]
    error_message = "Expected the housekeeping rule and one rule per expiring prefix."
  }

  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 90
    error_message = "Old versions must expire after 90 days by default."
  }
}

run "notifications_can_be_switched_off" {
  command = plan

  variables {
    eventbridge_notifications = false
  }

  assert {
    condition     = !aws_s3_bucket_notification.this.eventbridge
    error_message = "eventbridge_notifications = false must turn the notifications off."
  }
}

run "rejects_alias_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:111111111111:alias/batchops-data-science"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:iam::111111111111:role/batchops-deploy"
  }

  expect_failures = [var.kms_key_arn]
}

run "rejects_invalid_bucket_name" {
  command = plan

  variables {
    bucket_name = "Batchops_Data"
  }

  expect_failures = [var.bucket_name]
}

run "rejects_bad_reader_account" {
  command = plan

  variables {
    cross_account_readers = [{ account_id = "2222", prefixes = ["models"] }]
  }

  expect_failures = [var.cross_account_readers]
}

run "rejects_zero_day_expiry" {
  command = plan

  variables {
    expiring_prefixes = [{ prefix = "tmp", days = 0 }]
  }

  expect_failures = [var.expiring_prefixes]
}

run "rejects_noncurrent_expiry_out_of_range" {
  command = plan

  variables {
    noncurrent_version_expiration_days = 0
  }

  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_multipart_abort_out_of_range" {
  command = plan

  variables {
    abort_incomplete_multipart_upload_days = 400
  }

  expect_failures = [var.abort_incomplete_multipart_upload_days]
}
