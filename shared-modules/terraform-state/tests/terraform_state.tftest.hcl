mock_provider "aws" {
  source = "../_mocks"
}

variables {
  bucket_name = "batchops-tfstate-222222222222"
  kms_key_arn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "versioned_kms_encrypted_and_private" {
  command = apply

  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "State must be versioned (the way back after a bad apply)."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == var.kms_key_arn
    error_message = "State must be encrypted with the given key by default."
  }

  assert {
    condition     = aws_s3_bucket_public_access_block.this.block_public_policy && aws_s3_bucket_public_access_block.this.restrict_public_buckets && aws_s3_bucket_public_access_block.this.block_public_acls && aws_s3_bucket_public_access_block.this.ignore_public_acls
    error_message = "The state bucket must never be public."
  }
}

run "tls_only_and_no_other_encryption" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Condition.Bool["aws:SecureTransport"]
      if s.Sid == "DenyInsecureTransport" && s.Effect == "Deny"
    ]) == "false"
    error_message = "Requests without TLS must be denied."
  }

  assert {
    condition = one([
      for s in jsondecode(aws_s3_bucket_policy.this.policy).Statement : s.Condition.StringNotEquals["s3:x-amz-server-side-encryption-aws-kms-key-id"]
      if s.Sid == "DenyAnotherKmsKey"
    ]) == var.kms_key_arn
    error_message = "Puts that name another KMS key must be denied."
  }
}

run "rejects_alias_as_key_and_bad_name" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:222222222222:alias/batchops-tfstate"
    bucket_name = "Batchops_TFState"
  }

  expect_failures = [var.kms_key_arn, var.bucket_name]
}
