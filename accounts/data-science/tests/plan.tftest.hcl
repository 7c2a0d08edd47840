# Plans the whole data-science account against mocks (no AWS, no network).
mock_provider "aws" {
  source = "../../shared-modules/_mocks"
}

variables {
  function_packages_dir = "../../.infra-work/functions"
}

run "registry_account_plans_every_part" {
  command = apply

  assert {
    condition     = output.model_package_group_arn == "arn:aws:sagemaker:us-east-1:111111111111:model-package-group/batchops-abalone"
    error_message = "data-science holds the model registry."
  }

  assert {
    condition     = toset(keys(output.function_arns)) == toset(["batchops-notify", "batchops-pipeline-trigger", "batchops-approval-trigger", "batchops-retrain-trigger"])
    error_message = "data-science runs the notify, pipeline trigger, approval and retrain functions."
  }

  assert {
    condition     = toset(keys(output.event_rule_arns)) == toset(["pipeline-status-to-notify", "approval-to-deploy", "model-quality-failed-to-retrain", "training-data-to-training-pipeline"])
    error_message = "data-science gets the approval, retrain, notify and training-data rules."
  }

  assert {
    condition     = keys(output.schedule_arns) == ["batchops-data-science-training-schedule"]
    error_message = "data-science schedules the training pipeline."
  }
}

run "rejects_bad_account_id" {
  command = plan

  variables {
    account_id = "11111111111"
  }

  expect_failures = [var.account_id]
}

run "approval_lambda_may_call_gitlab_elsewhere_than_its_issuer" {
  command = plan

  variables {
    gitlab_api_url = "http://127.0.0.1:8929"
  }
}

run "rejects_plain_http_gitlab_api_url_off_this_machine" {
  command = plan

  variables {
    gitlab_api_url = "http://gitlab.internal.example.com"
  }

  expect_failures = [var.gitlab_api_url]
}
