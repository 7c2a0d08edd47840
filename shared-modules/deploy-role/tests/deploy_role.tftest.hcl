mock_provider "aws" {
  source = "../_mocks"
}

variables {
  environment         = "staging"
  gitlab_url          = "https://gitlab.example.com"
  gitlab_project_path = "ml/batchops"
  oidc_provider_arn   = "arn:aws:iam::222222222222:oidc-provider/gitlab.example.com"
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

run "trust_limited_to_our_project_refs_and_the_audience_ci_requests" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringLike["gitlab.example.com:sub"] == [
      "project_path:ml/batchops:ref_type:branch:ref:main",
      "project_path:ml/batchops:ref_type:branch:ref:main:*",
      "project_path:ml/batchops:ref_type:tag:ref:v1.0.0",
      "project_path:ml/batchops:ref_type:tag:ref:v1.0.0:*",
    ]
    error_message = "Only our project's listed refs may assume the role."
  }

  # Regression (issue 16, defect 1): CI requests aud: $CI_SERVER_URL, the role used to
  # expect sts.amazonaws.com, so no job could assume it.
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.StringEquals["gitlab.example.com:aud"] == "https://gitlab.example.com"
    error_message = "The audience must be the GitLab URL CI requests."
  }

  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::222222222222:oidc-provider/gitlab.example.com"
    error_message = "The role must trust the account's GitLab OIDC provider."
  }

  assert {
    condition     = aws_iam_role.this.name == "batchops-deploy" && output.audience == "https://gitlab.example.com"
    error_message = "The role must be named batchops-deploy by default and report its audience."
  }
}

run "production_requires_the_protected_production_environment" {
  command = plan

  variables {
    environment                = "production"
    allowed_refs               = [{ ref_type = "branch", ref = "main" }]
    protected_environment_tier = "production"
  }

  assert {
    condition     = output.allowed_subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:production"])
    error_message = "Production must be assumable only from a protected production environment on main."
  }
}

run "rejects_production_without_the_environment_gate" {
  command = plan

  variables {
    environment  = "production"
    allowed_refs = [{ ref_type = "branch", ref = "main" }]
  }

  expect_failures = [var.protected_environment_tier]
}

run "rejects_production_from_other_refs" {
  command = plan

  variables {
    environment                = "production"
    protected_environment_tier = "production"
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

run "rejects_insecure_gitlab_url_unknown_environment_and_bad_provider" {
  command = plan

  variables {
    gitlab_url        = "http://gitlab.example.com/"
    environment       = "dev"
    oidc_provider_arn = "gitlab.example.com"
  }

  expect_failures = [var.gitlab_url, var.environment, var.oidc_provider_arn]
}
