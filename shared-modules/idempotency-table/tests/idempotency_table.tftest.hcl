mock_provider "aws" {
  source = "../_mocks"
}

variables {
  table_name  = "batchops-staging-idempotency"
  kms_key_arn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "keyed_on_pk_with_ttl_on_expires_at" {
  command = apply

  assert {
    condition     = aws_dynamodb_table.this.hash_key == "pk" && one(aws_dynamodb_table.this.attribute).type == "S"
    error_message = "The table must be keyed on the string attribute pk."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.ttl).attribute_name == "expires_at" && one(aws_dynamodb_table.this.ttl).enabled
    error_message = "Items must expire through the expires_at TTL attribute."
  }

  assert {
    condition     = output.table_arn == "arn:aws:dynamodb:us-east-1:111111111111:table/batchops-test-idempotency"
    error_message = "table_arn output must be the table's ARN."
  }
}

run "encrypted_with_our_key_and_recoverable" {
  command = plan

  assert {
    condition     = one(aws_dynamodb_table.this.server_side_encryption).kms_key_arn == var.kms_key_arn
    error_message = "The table must be encrypted with the given customer-managed key."
  }

  assert {
    condition     = one(aws_dynamodb_table.this.point_in_time_recovery).enabled && aws_dynamodb_table.this.deletion_protection_enabled
    error_message = "Point-in-time recovery and deletion protection must be on by default."
  }
}

run "rejects_bad_table_name" {
  command = plan

  variables {
    table_name = "a"
  }

  expect_failures = [var.table_name]
}

run "rejects_alias_instead_of_key_arn" {
  command = plan

  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:222222222222:alias/batchops-staging"
  }

  expect_failures = [var.kms_key_arn]
}
