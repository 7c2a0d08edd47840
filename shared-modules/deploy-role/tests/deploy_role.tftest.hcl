mock_provider "aws" {
  source = "../_mocks"
}

variables {
  environment         = "staging"
  gitlab_url          = "https://gitlab.example.com"
  gitlab_project_path = "ml/batchops"
  allowed_refs = [
    { ref_type = "branch", ref = "main" },
    { ref_type = "tag", ref = "v1.0.0" },
  ]
  policy_statements = [{
    sid       = "ManageInferencePipeline"
    actions   = ["sagemaker:UpdatePipeline"]
    resources = ["arn:aws:sagemaker:us-east-1:222222222222:pipeline/batchops-inference"]
  }]
}

run "trust_limited_to_our_project_refs_and_audience" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringLike["gitlab.example.com:sub"] == [
      "project_path:ml/batchops:ref_type:branch:ref:main",
      "project_path:ml/batchops:ref_type:tag:ref:v1.0.0",
    ]
    error_message = "Only our project's listed refs may assume the role."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.example.com:aud"] == "sts.amazonaws.com"
    error_message = "The audience must be checked."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Federated == aws_iam_openid_connect_provider.gitlab[0].arn
    error_message = "The role must trust the GitLab OIDC provider."
  }

  assert {
    condition     = aws_iam_role.this.name == "batchops-deploy"
    error_message = "The role must be named batchops-deploy by default."
  }
}

run "existing_provider_is_referenced_not_created" {
  command = plan

  variables {
    create_oidc_provider = false
  }

  assert {
    condition     = length(aws_iam_openid_connect_provider.gitlab) == 0 && output.oidc_provider_arn == "arn:aws:iam::111111111111:oidc-provider/gitlab.example.com"
    error_message = "With create_oidc_provider = false the account's existing provider must be trusted."
  }
}

run "production_accepts_protected_main" {
  command = plan

  variables {
    environment  = "production"
    allowed_refs = [{ ref_type = "branch", ref = "main" }]
  }

  assert {
    condition     = output.allowed_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main"])
    error_message = "Production must be assumable from main."
  }
}

run "rejects_production_from_other_refs" {
  command = plan

  variables {
    environment = "production"
  }

  expect_failures = [var.allowed_refs]
}

run "rejects_wildcard_project_and_refs" {
  command = plan

  variables {
    gitlab_project_path = "ml/*"
    allowed_refs        = [{ ref_type = "branch", ref = "*" }]
  }

  expect_failures = [var.gitlab_project_path, var.allowed_refs]
}

run "rejects_admin_statement" {
  command = plan

  variables {
    policy_statements = [{ sid = "Admin", actions = ["*"], resources = ["*"] }]
  }

  expect_failures = [var.policy_statements]
}

run "rejects_insecure_gitlab_url_and_unknown_environment" {
  command = plan

  variables {
    gitlab_url  = "http://gitlab.example.com/"
    environment = "dev"
  }

  expect_failures = [var.gitlab_url, var.environment]
}
