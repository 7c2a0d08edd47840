# Plans the bootstrap of each account against mocks (no AWS, no network).
mock_provider "aws" {
  source = "../../shared-modules/_mocks"
}

run "staging_gets_its_state_bucket_provider_and_ci_roles" {
  command = apply

  variables {
    environment = "staging"
  }

  assert {
    condition     = output.state_bucket == "batchops-tfstate-222222222222"
    error_message = "The state bucket is the one accounts/staging/backend.hcl names."
  }

  assert {
    condition     = aws_iam_openid_connect_provider.gitlab.url == "https://gitlab.example.com" && aws_iam_openid_connect_provider.gitlab.client_id_list == toset(["https://gitlab.example.com"])
    error_message = "One GitLab provider whose client id is the audience CI requests ($CI_SERVER_URL)."
  }

  assert {
    condition     = strcontains(output.account_backend_hcl, "use_lockfile = true") && strcontains(output.account_backend_hcl, "key          = \"batchops/staging/terraform.tfstate\"") && strcontains(output.account_backend_hcl, "kms_key_id   = \"${output.state_kms_key_arn}\"")
    error_message = "The account root's backend.hcl locks natively and encrypts with the state key."
  }

  assert {
    condition     = keys(output.gitlab_ci_variables) == ["STAGING_TF_APPLY_ROLE_ARN", "STAGING_TF_PLAN_ROLE_ARN"]
    error_message = "The outputs name the CI/CD variables .gitlab/ci/infrastructure.yml reads."
  }
}

run "production_apply_needs_the_protected_environment" {
  command = plan

  variables {
    environment = "production"
  }

  assert {
    condition     = module.ci_roles.apply_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:other"])
    error_message = "Production applies only from the protected environment on main."
  }
}

run "data_science_reads_its_own_tfvars" {
  command = plan

  variables {
    environment = "data-science"
  }

  assert {
    condition     = module.state_bucket.bucket_name == "batchops-tfstate-111111111111"
    error_message = "Account values come from accounts/data-science/terraform.tfvars.json."
  }
}

run "rejects_an_unknown_environment" {
  command = plan

  variables {
    environment = "dev"
  }

  expect_failures = [var.environment]
}
