mock_provider "aws" {
  source = "../_mocks"
}

variables {
  patterns_dir = "../../src/batchops/events"
  pattern_values = {
    account_id               = "111111111111"
    region                   = "us-east-1"
    bucket_name              = "batchops-data-science-111111111111"
    training_data_prefix     = "pipeline_shared/batch-scoring/training/data/raw/"
    inference_data_prefix    = "pipeline_shared/batch-scoring/inference/data/raw/"
    model_package_group_name = "batchops-abalone"
    pipeline_train_arn       = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training"
    pipeline_trainwhpo_arn   = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training-hpo"
    pipeline_inf_arn         = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-inference"
    pipeline_inf             = "batchops-inference"
    model_quality_step_name  = "CheckModelQuality"
  }
  rules = {
    approval-to-deploy = {
      pattern             = "approval-to-deploy"
      description         = "An approved model version triggers the GitLab deploy pipeline."
      target              = "lambda"
      lambda_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:batchops-approval-trigger"
      target_id           = "lambda"
      input_transformer = {
        input_paths    = { version = "$.detail.ModelPackageVersion" }
        input_template = "{\"version\": <version>}"
      }
    }
    training-data-to-training-pipeline = {
      pattern      = "training-data-to-training-pipeline"
      description  = "New training data starts the training pipeline."
      target       = "pipeline"
      pipeline_arn = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training"
      pipeline_parameters = {
        InputBucket = "$.detail.bucket.name"
        InputKey    = "$.detail.object.key"
      }
    }
    model-quality-failed-to-data-science-bus = {
      pattern       = "model-quality-failed-to-data-science-bus"
      description   = "Forward model-quality failures to the data-science account."
      target        = "bus"
      event_bus_arn = "arn:aws:events:us-east-1:111111111111:event-bus/default"
    }
  }
  bus_policy_source_account_ids = ["222222222222", "333333333333"]
}

run "patterns_come_from_the_files_with_placeholders_filled" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["approval-to-deploy"].event_pattern).detail.ModelPackageGroupName == ["batchops-abalone"]
    error_message = "The approval rule must match the configured model package group."
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["training-data-to-training-pipeline"].event_pattern).detail.object.key[0].wildcard == "pipeline_shared/batch-scoring/training/data/raw/*training-data.csv"
    error_message = "The training rule must match uploads under the training prefix."
  }

  assert {
    condition     = aws_cloudwatch_event_rule.this["approval-to-deploy"].name == "batchops-approval-to-deploy"
    error_message = "Rules must be named batchops-<name>."
  }
}

run "each_rule_gets_its_one_target" {
  command = apply

  assert {
    condition     = aws_cloudwatch_event_target.lambda["approval-to-deploy"].target_id == "lambda" && one(aws_cloudwatch_event_target.lambda["approval-to-deploy"].input_transformer).input_paths == tomap({ version = "$.detail.ModelPackageVersion" }) && length(aws_cloudwatch_event_target.bus["model-quality-failed-to-data-science-bus"].input_transformer) == 0
    error_message = "A rule's target_id and input_transformer (rules.json) reach its target; without one, none."
  }

  assert {
    condition     = keys(aws_cloudwatch_event_target.lambda) == ["approval-to-deploy"] && keys(aws_lambda_permission.events) == ["approval-to-deploy"]
    error_message = "Only the Lambda rule gets a Lambda target and invoke permission."
  }

  assert {
    condition = {
      for p in one(aws_cloudwatch_event_target.pipeline["training-data-to-training-pipeline"].sagemaker_pipeline_target).pipeline_parameter_list : p.name => p.value
    } == { InputBucket = "$.detail.bucket.name", InputKey = "$.detail.object.key" }
    error_message = "The pipeline target must pass the bucket and key from the event."
  }

  assert {
    condition     = aws_cloudwatch_event_target.bus["model-quality-failed-to-data-science-bus"].arn == "arn:aws:events:us-east-1:111111111111:event-bus/default"
    error_message = "The forwarding rule must target the data-science default bus."
  }
}

run "targets_role_limited_to_the_named_pipelines_and_buses" {
  command = apply

  assert {
    condition = { for s in jsondecode(aws_iam_role_policy.targets[0].policy).Statement : s.Sid => s.Resource } == {
      StartPipelines = ["arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training"]
      ForwardToBuses = ["arn:aws:events:us-east-1:111111111111:event-bus/default"]
    }
    error_message = "The targets role may start only the target pipelines and put events only on the target buses."
  }

  assert {
    condition     = length(jsondecode(aws_cloudwatch_event_bus_policy.this[0].policy).Statement[0].Principal.AWS) == 2
    error_message = "The bus policy must admit exactly the workload accounts."
  }
}

run "no_role_without_pipeline_or_bus_targets" {
  command = plan

  variables {
    rules = {
      pipeline-status-to-notify = {
        pattern             = "pipeline-status-to-notify"
        description         = "Notify about pipeline status changes."
        target              = "lambda"
        lambda_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:batchops-notify"
      }
    }
    bus_policy_source_account_ids = []
  }

  assert {
    condition     = length(aws_iam_role.targets) == 0 && length(aws_cloudwatch_event_bus_policy.this) == 0
    error_message = "No role or bus policy may be created when nothing needs them."
  }
}

run "names_the_pattern_file_with_invalid_json" {
  command = plan

  variables {
    patterns_dir = "tests/fixtures/broken"
    rules = {
      approval-to-deploy = {
        pattern             = "approval-to-deploy"
        description         = "Broken pattern file."
        target              = "lambda"
        lambda_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:batchops-approval-trigger"
      }
    }
  }

  expect_failures = [aws_cloudwatch_event_rule.this]
}

run "rejects_rule_with_two_targets" {
  command = plan

  variables {
    rules = {
      approval-to-deploy = {
        pattern             = "approval-to-deploy"
        description         = "Two targets."
        target              = "lambda"
        lambda_function_arn = "arn:aws:lambda:us-east-1:111111111111:function:batchops-approval-trigger"
        target              = "pipeline"
        pipeline_arn        = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/batchops-training"
      }
    }
  }

  expect_failures = [var.rules]
}

run "rejects_pipeline_arn_with_upper_case_name" {
  command = plan

  variables {
    rules = {
      training = {
        pattern      = "training-data-to-training-pipeline"
        description  = "Upper-case pipeline ARN."
        target       = "pipeline"
        pipeline_arn = "arn:aws:sagemaker:us-east-1:111111111111:pipeline/Batchops-Training"
      }
    }
  }

  expect_failures = [var.rules]
}

run "rejects_bad_source_account" {
  command = plan

  variables {
    bus_policy_source_account_ids = ["prod"]
  }

  expect_failures = [var.bus_policy_source_account_ids]
}

run "every_target_retries_as_declared_then_goes_to_the_dead_letter_queue" {
  command = plan

  variables {
    dead_letter_queue_name = "batchops-data-science-events-dlq"
    kms_key_arn            = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    alarm_topic_arn        = "arn:aws:sns:us-east-1:111111111111:batchops-data-science-notifications"
    dead_letter_alarm      = true
  }

  assert {
    condition     = one(aws_cloudwatch_event_target.lambda["approval-to-deploy"].retry_policy).maximum_retry_attempts == 8 && one(aws_cloudwatch_event_target.pipeline["training-data-to-training-pipeline"].retry_policy).maximum_event_age_in_seconds == 3600 && one(aws_cloudwatch_event_target.bus["model-quality-failed-to-data-science-bus"].retry_policy).maximum_retry_attempts == 8
    error_message = "Every target kind carries the declared RetryPolicy."
  }

  assert {
    condition     = length(aws_cloudwatch_event_target.lambda["approval-to-deploy"].dead_letter_config) == 1 && length(aws_cloudwatch_event_target.pipeline["training-data-to-training-pipeline"].dead_letter_config) == 1 && length(aws_cloudwatch_event_target.bus["model-quality-failed-to-data-science-bus"].dead_letter_config) == 1
    error_message = "Every target sends undeliverable events to the dead-letter queue."
  }

  assert {
    condition     = aws_sqs_queue.dead_letters[0].kms_master_key_id == var.kms_key_arn && aws_cloudwatch_metric_alarm.dead_letters[0].alarm_actions == toset([var.alarm_topic_arn])
    error_message = "The queue is KMS-encrypted and its alarm notifies the topic."
  }
}

run "a_retry_policy_outside_eventbridges_limits_is_refused" {
  command = plan

  variables {
    retry_policy = { maximum_retry_attempts = 186, maximum_event_age_in_seconds = 3600 }
  }

  expect_failures = [var.retry_policy]
}
