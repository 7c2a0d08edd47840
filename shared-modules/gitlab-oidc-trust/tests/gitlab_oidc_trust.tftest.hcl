# Pure module: no provider, plans only render the document.
variables {
  gitlab_url          = "https://gitlab.example.com"
  oidc_provider_arn   = "arn:aws:iam::222222222222:oidc-provider/gitlab.example.com"
  gitlab_project_path = "ml/batchops"
}

run "audience_is_the_gitlab_url_that_ci_requests" {
  command = plan

  assert {
    condition     = jsondecode(output.policy_json).Statement[0].Condition.StringEquals["gitlab.example.com:aud"] == "https://gitlab.example.com"
    error_message = "CI asks for aud: $CI_SERVER_URL; the trust must expect the GitLab URL."
  }

  assert {
    condition     = output.audience == "https://gitlab.example.com"
    error_message = "The provider's client id list must hold the same audience."
  }
}

run "main_with_or_without_the_environment_components" {
  command = plan

  assert {
    condition = output.subjects == tolist([
      "project_path:ml/batchops:ref_type:branch:ref:main",
      "project_path:ml/batchops:ref_type:branch:ref:main:*",
    ])
    error_message = "Only main of our project (any environment) may assume an ungated role."
  }
}

run "production_gate_requires_a_protected_production_environment" {
  command = plan

  variables {
    protected_environment_tier = "production"
  }

  assert {
    condition     = output.subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:production"])
    error_message = "The gate must pin environment_protected:true and the production tier, with no wildcard."
  }
}

run "any_branch_for_read_only_roles" {
  command = plan

  variables {
    any_branch = true
  }

  assert {
    condition     = output.subjects == tolist(["project_path:ml/batchops:ref_type:branch:ref:*"])
    error_message = "any_branch trusts every branch of the project and nothing else."
  }
}

run "explicit_audience_wins" {
  command = plan

  variables {
    audience = "sts.amazonaws.com"
  }

  assert {
    condition     = jsondecode(output.policy_json).Statement[0].Condition.StringEquals["gitlab.example.com:aud"] == "sts.amazonaws.com"
    error_message = "An explicit audience must be used as given."
  }
}

run "rejects_wildcards_bad_tier_and_gate_on_any_branch" {
  command = plan

  variables {
    gitlab_project_path        = "ml/*"
    allowed_refs               = [{ ref_type = "branch", ref = "*" }]
    protected_environment_tier = "prod"
  }

  expect_failures = [var.gitlab_project_path, var.allowed_refs, var.protected_environment_tier]
}

run "rejects_a_gate_on_every_branch" {
  command = plan

  variables {
    any_branch                 = true
    protected_environment_tier = "production"
  }

  expect_failures = [var.protected_environment_tier]
}

run "rejects_insecure_url_and_foreign_provider_arn" {
  command = plan

  variables {
    gitlab_url        = "http://gitlab.example.com/"
    oidc_provider_arn = "arn:aws:iam::222222222222:role/not-a-provider"
  }

  expect_failures = [var.gitlab_url, var.oidc_provider_arn]
}
