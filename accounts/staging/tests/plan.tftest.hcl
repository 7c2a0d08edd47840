# Plans the whole staging account against mocks (no AWS, no network).
mock_provider "aws" {
  source = "../../shared-modules/_mocks"
}

variables {
  function_packages_dir = "../../.infra-work/functions"
  registry_kms_key_arn  = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

run "workload_account_plans_every_part" {
  command = apply

  assert {
    condition     = output.model_package_group_arn == null
    error_message = "staging holds no model registry."
  }

  assert {
    condition     = toset(keys(output.function_arns)) == toset(["batchops-notify", "batchops-pipeline-trigger"])
    error_message = "staging runs only the notify and pipeline trigger functions."
  }

  assert {
    condition     = toset(keys(output.event_rule_arns)) == toset(["pipeline-status-to-notify", "model-quality-failed-to-data-science-bus", "inference-data-to-inference-pipeline"])
    error_message = "staging forwards model-quality failures, notifies and starts inference on new data."
  }

  assert {
    condition     = keys(output.schedule_arns) == ["batchops-staging-inference-schedule"]
    error_message = "staging schedules the inference pipeline."
  }

  assert {
    condition     = output.schedule_targets["batchops-staging-inference-schedule"] == output.function_arns["batchops-pipeline-trigger"]
    error_message = "staging's inference schedule goes through batchops-pipeline-trigger (no scheduled run with a rejected model version)."
  }
}

run "requires_the_registry_key" {
  command = plan

  variables {
    registry_kms_key_arn = null
  }

  expect_failures = [var.registry_kms_key_arn]
}
