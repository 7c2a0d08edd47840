# Plans the whole staging account against mocks (no AWS, no network).
mock_provider "aws" {
  source = "../../shared-modules/_mocks"
}

variables {
  function_packages_dir = "../../.infra-work/functions"
}

run "workload_account_plans_every_part" {
  command = apply

  assert {
    condition     = output.model_package_group_arn == null
    error_message = "staging holds no model registry."
  }

  assert {
    condition     = toset(keys(output.function_arns)) == toset(["batchops-notify", "batchops-promotion-evidence"])
    error_message = "staging runs the notify and the promotion-evidence functions."
  }

  assert {
    condition     = toset(keys(output.event_rule_arns)) == toset(["pipeline-status-to-notify", "model-quality-failed-to-data-science-bus", "inference-data-to-inference-pipeline", "inference-run-to-promotion-evidence"])
    error_message = "staging forwards model-quality failures, notifies, starts inference on new data and records ended runs as promotion evidence."
  }

  assert {
    condition     = keys(output.schedule_arns) == ["batchops-staging-inference-schedule"]
    error_message = "staging schedules the inference pipeline."
  }
}

# Regression (issue 16, defect 7): staging used to need a hand-set registry_kms_key_arn that
# no tfvars file or CI job provides. The committed files alone (terraform.tfvars.json) now
# plan: the key ARN is read from the data-science account by its alias ARN.
run "plans_with_only_the_committed_files" {
  command = plan

  assert {
    condition     = module.account.registry_kms_key_arn == "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "The registry key must come from the data-science account's alias, not from a hand-set variable."
  }
}

run "an_explicit_registry_key_overrides_the_lookup" {
  command = plan

  variables {
    registry_kms_key_arn = "arn:aws:kms:us-east-1:111111111111:key/99999999-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = module.account.registry_kms_key_arn == "arn:aws:kms:us-east-1:111111111111:key/99999999-12ab-34cd-56ef-1234567890ab"
    error_message = "An explicit registry_kms_key_arn (the local cloud) wins over the lookup."
  }
}

# Regression (issue 16, defect 1): CI asks for aud: $CI_SERVER_URL, the role expected
# sts.amazonaws.com.
run "deploy_role_expects_the_audience_ci_requests" {
  command = plan

  assert {
    condition     = module.account.deploy_role_audience == var.gitlab_url
    error_message = "The deploy role must expect aud = gitlab_url (CI's $CI_SERVER_URL)."
  }
}

run "staging_role_for_jobs_on_main" {
  command = plan

  assert {
    condition = module.account.deploy_role_subjects == tolist([
      "project_path:ml/batchops:ref_type:branch:ref:main",
      "project_path:ml/batchops:ref_type:branch:ref:main:*",
    ])
    error_message = "Staging accepts jobs of main (with or without the environment components)."
  }
}
