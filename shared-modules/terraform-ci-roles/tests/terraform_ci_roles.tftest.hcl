mock_provider "aws" {
  source = "../_mocks"
}

variables {
  environment              = "staging"
  account_id               = "222222222222"
  gitlab_url               = "https://gitlab.example.com"
  gitlab_project_path      = "ml/batchops"
  oidc_provider_arn        = "arn:aws:iam::222222222222:oidc-provider/gitlab.example.com"
  state_bucket_name        = "batchops-tfstate-222222222222"
  state_kms_key_arn        = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  data_bucket_name         = "batchops-staging-222222222222"
  registry_account_id      = "111111111111"
  model_package_group_name = "batchops-abalone"
}

run "plan_from_any_branch_apply_from_main" {
  command = plan

  assert {
    condition     = output.plan_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:*"])
    error_message = "The plan role serves merge requests: every branch of our project, nothing else."
  }

  assert {
    condition     = output.apply_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main", "project_path:ml/batchops:ref_type:branch:ref:main:*"])
    error_message = "The apply role is for main only."
  }

  assert {
    condition     = jsondecode(aws_iam_role.apply.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.example.com:aud"] == "https://gitlab.example.com"
    error_message = "The roles expect the audience CI requests."
  }
}

run "plan_is_read_only_and_marked_so" {
  command = plan

  assert {
    condition     = aws_iam_role_policy_attachment.plan_read_only.policy_arn == "arn:aws:iam::aws:policy/ReadOnlyAccess" && aws_iam_role.plan.tags["batchops:ci-access"] == "read-only"
    error_message = "The plan role is AWS's ReadOnlyAccess plus state access, tagged read-only."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      s.Effect == "Deny" || alltrue([for a in flatten([s.Action]) : !contains(["s3:PutObject", "s3:DeleteObject"], a)]) || s.Resource == ["arn:aws:s3:::batchops-tfstate-222222222222/batchops/*.tfstate.tflock"]
    ])
    error_message = "The plan role writes nothing but the state lock file."
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_iam_role_policy.plan.policy).Statement :
      s.Effect == "Deny" && contains(flatten([s.Action]), "secretsmanager:GetSecretValue") && contains(flatten([s.Resource]), "arn:aws:s3:::batchops-staging-222222222222/*")
    ])
    error_message = "The plan role (any branch) must not read data objects or secret values."
  }
}

run "apply_cannot_touch_the_bootstrap" {
  command = plan

  assert {
    condition = one([
      for s in jsondecode(aws_iam_role_policy.apply.policy).Statement : s.Resource
      if s.Sid == "NotTheBootstrapRoles" && s.Effect == "Deny"
    ]) == ["arn:aws:iam::222222222222:role/batchops-terraform-plan", "arn:aws:iam::222222222222:role/batchops-terraform-apply"]
    error_message = "The apply role must not change the CI roles that govern it."
  }

  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.apply.policy).Statement :
      s.Effect == "Deny" || alltrue([for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")])
    ])
    error_message = "No Allow statement may grant '*' or 'service:*'."
  }
}

run "production_apply_only_from_the_protected_environment" {
  command = plan

  variables {
    environment = "production"
    account_id  = "333333333333"
  }

  assert {
    condition     = output.apply_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:other"])
    error_message = "Production's apply role is for the protected infrastructure/production environment (tier other) on main."
  }
}

run "rejects_bad_environment_account_and_state_key" {
  command = plan

  variables {
    environment       = "prod"
    account_id        = "3333"
    state_kms_key_arn = "alias/batchops-tfstate"
  }

  expect_failures = [var.environment, var.account_id, var.state_kms_key_arn]
}
