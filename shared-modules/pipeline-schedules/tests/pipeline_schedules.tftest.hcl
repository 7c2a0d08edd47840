mock_provider "aws" {
  source = "../_mocks"
}

variables {
  role_name   = "batchops-staging-scheduler"
  kms_key_arn = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  schedules = {
    batchops-staging-inference-schedule = {
      description  = "Nightly batch inference."
      expression   = "cron(0 2 * * ? *)"
      pipeline_arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
      parameters   = { InputBucket = "batchops-staging-222222222222" }
    }
  }
}

run "schedule_starts_the_pipeline_with_parameters" {
  command = apply

  assert {
    condition     = aws_scheduler_schedule.this["batchops-staging-inference-schedule"].schedule_expression == "cron(0 2 * * ? *)" && aws_scheduler_schedule.this["batchops-staging-inference-schedule"].state == "ENABLED"
    error_message = "The schedule must carry the expression and be enabled."
  }

  assert {
    condition     = one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).arn == "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
    error_message = "The schedule must target the pipeline ARN."
  }

  assert {
    condition     = one(one(one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).sagemaker_pipeline_parameters).pipeline_parameter).value == "batchops-staging-222222222222"
    error_message = "Static pipeline parameters must be passed."
  }

  assert {
    condition     = aws_scheduler_schedule.this["batchops-staging-inference-schedule"].kms_key_arn == var.kms_key_arn
    error_message = "The schedule must be encrypted with the given key."
  }
}

run "role_may_start_only_the_scheduled_pipelines" {
  command = apply

  assert {
    condition     = jsondecode(aws_iam_role_policy.scheduler.policy).Statement[0].Resource == ["arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"]
    error_message = "The scheduler role may start only the scheduled pipelines."
  }
}

run "disabled_schedule_is_kept_but_off" {
  command = plan

  variables {
    schedules = {
      batchops-staging-inference-schedule = {
        description  = "Paused."
        expression   = "rate(1 day)"
        pipeline_arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
        enabled      = false
      }
    }
  }

  assert {
    condition     = aws_scheduler_schedule.this["batchops-staging-inference-schedule"].state == "DISABLED"
    error_message = "enabled = false must disable the schedule."
  }
}

run "rejects_bad_expression" {
  command = plan

  variables {
    schedules = {
      nightly = {
        description  = "Bad."
        expression   = "every night"
        pipeline_arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
      }
    }
  }

  expect_failures = [var.schedules]
}

run "rejects_non_pipeline_target" {
  command = plan

  variables {
    schedules = {
      nightly = {
        description  = "Bad."
        expression   = "rate(1 day)"
        pipeline_arn = "arn:aws:lambda:us-east-1:222222222222:function:batchops-notify"
      }
    }
  }

  expect_failures = [var.schedules]
}

run "rejects_non_kms_arn" {
  command = plan

  variables {
    kms_key_arn = "batchops-staging"
  }

  expect_failures = [var.kms_key_arn]
}

run "a_guarded_schedule_goes_through_the_trigger_function" {
  command = apply

  variables {
    schedules = {
      batchops-staging-inference-schedule = {
        description  = "Nightly batch inference, only with an approved model version."
        expression   = "cron(0 2 * * ? *)"
        pipeline_arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
        function_arn = "arn:aws:lambda:us-east-1:222222222222:function:batchops-pipeline-trigger"
        parameters   = { InputBucket = "batchops-staging-222222222222" }
      }
    }
  }

  assert {
    condition     = one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).arn == "arn:aws:lambda:us-east-1:222222222222:function:batchops-pipeline-trigger"
    error_message = "A schedule with function_arn must invoke the function, not start the pipeline."
  }

  assert {
    condition     = jsondecode(one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).input).time == "<aws.scheduler.scheduled-time>" && jsondecode(one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).input)["detail-type"] == "Scheduled Pipeline Run" && jsondecode(one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).input).detail.parameters.InputBucket == "batchops-staging-222222222222"
    error_message = "The function's input must carry the scheduled time (one run per time) and the parameters."
  }

  assert {
    condition     = length(one(aws_scheduler_schedule.this["batchops-staging-inference-schedule"].target).sagemaker_pipeline_parameters) == 0
    error_message = "A function target takes no pipeline parameters block."
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : s.Action] == [["lambda:InvokeFunction"]]
    error_message = "The scheduler role may only invoke the function (it starts no pipeline itself)."
  }
}

run "rejects_a_function_alias_arn" {
  command = plan

  variables {
    schedules = {
      nightly = {
        description  = "Bad."
        expression   = "rate(1 day)"
        pipeline_arn = "arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"
        function_arn = "arn:aws:lambda:us-east-1:222222222222:function:batchops-pipeline-trigger:live"
      }
    }
  }

  expect_failures = [var.schedules]
}
