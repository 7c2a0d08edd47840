# Shared mock values for `terraform test` with `mock_provider "aws" { source = "../_mocks" }`.
# Data sources answer like the data-science account in us-east-1; resources get realistic
# ARNs so policies and ARN validations see the shapes AWS returns.

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "111111111111"
    arn        = "arn:aws:sts::111111111111:assumed-role/batchops-deploy/terraform"
    user_id    = "AROAEXAMPLEEXAMPLE:terraform"
  }
}

mock_data "aws_partition" {
  defaults = {
    partition          = "aws"
    dns_suffix         = "amazonaws.com"
    reverse_dns_prefix = "com.amazonaws"
  }
}

mock_data "aws_region" {
  defaults = {
    name        = "us-east-1"
    id          = "us-east-1"
    description = "US East (N. Virginia)"
  }
}

mock_resource "aws_kms_key" {
  defaults = {
    arn    = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

mock_resource "aws_kms_alias" {
  defaults = {
    arn = "arn:aws:kms:us-east-1:111111111111:alias/batchops-test"
  }
}

mock_resource "aws_iam_role" {
  defaults = {
    arn = "arn:aws:iam::111111111111:role/batchops-test"
  }
}

mock_resource "aws_iam_openid_connect_provider" {
  defaults = {
    arn = "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com"
  }
}

mock_resource "aws_sqs_queue" {
  defaults = {
    arn = "arn:aws:sqs:us-east-1:111111111111:batchops-test-dlq"
    url = "https://sqs.us-east-1.amazonaws.com/111111111111/batchops-test-dlq"
  }
}

mock_resource "aws_sns_topic" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:111111111111:batchops-test-notifications"
  }
}

mock_resource "aws_sns_topic_subscription" {
  defaults = {
    arn = "arn:aws:sns:us-east-1:111111111111:batchops-test-notifications:6b0e71bd-7e97-4d97-80ce-4a0994e55286"
  }
}

mock_resource "aws_cloudwatch_log_group" {
  defaults = {
    arn = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/batchops-test"
  }
}

mock_resource "aws_lambda_function" {
  defaults = {
    arn           = "arn:aws:lambda:us-east-1:111111111111:function:batchops-test"
    invoke_arn    = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:batchops-test/invocations"
    qualified_arn = "arn:aws:lambda:us-east-1:111111111111:function:batchops-test:$LATEST"
  }
}

mock_resource "aws_cloudwatch_event_rule" {
  defaults = {
    arn = "arn:aws:events:us-east-1:111111111111:rule/batchops-test"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::batchops-test-111111111111"
  }
}

mock_resource "aws_sagemaker_model_package_group" {
  defaults = {
    arn = "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone"
  }
}

mock_resource "aws_scheduler_schedule" {
  defaults = {
    arn = "arn:aws:scheduler:us-east-1:111111111111:schedule/default/batchops-test"
  }
}

mock_resource "aws_dynamodb_table" {
  defaults = {
    arn = "arn:aws:dynamodb:us-east-1:111111111111:table/batchops-test-idempotency"
  }
}

mock_resource "aws_secretsmanager_secret" {
  defaults = {
    arn = "arn:aws:secretsmanager:us-east-1:111111111111:secret:batchops/gitlab-trigger-token-AbCdEf"
  }
}

# The account's GitLab OIDC provider (accounts/bootstrap creates it; roots read it as data).
mock_data "aws_iam_openid_connect_provider" {
  defaults = {
    arn            = "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com"
    url            = "gitlab.example.com"
    client_id_list = ["https://gitlab.example.com"]
  }
}

# The data-science account key, described cross-account through its alias ARN.
mock_data "aws_kms_key" {
  defaults = {
    arn = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    id  = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}
