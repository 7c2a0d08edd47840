# Plans the whole production account against mocks (no AWS, no network).
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
    error_message = "production holds no model registry."
  }

  assert {
    condition     = keys(output.function_arns) == ["batchops-notify"]
    error_message = "production runs only the notify function."
  }

  assert {
    condition     = toset(keys(output.event_rule_arns)) == toset(["pipeline-status-to-notify", "model-quality-failed-to-data-science-bus", "inference-data-to-inference-pipeline"])
    error_message = "production forwards model-quality failures, notifies and starts inference on new data."
  }

  assert {
    condition     = keys(output.schedule_arns) == ["batchops-production-inference-schedule"]
    error_message = "production schedules the inference pipeline."
  }
}

# Regression (issue 16, defect 7): production used to need a hand-set registry_kms_key_arn that
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

run "production_deploys_only_from_main" {
  command = plan

  variables {
    deploy_allowed_refs = [{ ref_type = "branch", ref = "release" }]
  }

  expect_failures = [var.deploy_allowed_refs]
}

# Regression (issue 16, defect 10): staging and production both accepted any job on main,
# so a job outside the protected production environment could assume the production role.
run "production_role_only_for_the_protected_production_environment" {
  command = plan

  assert {
    condition     = module.account.deploy_role_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:production"])
    error_message = "Only a job in the protected production environment on main may assume the production deploy role."
  }
}
