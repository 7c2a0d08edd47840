# The trust policy of a role that GitLab CI jobs assume with AssumeRoleWithWebIdentity.
#
# What AWS can check: for an IAM OIDC provider that is not one of its built-in ones, only
# the `<issuer host>:aud` and `<issuer host>:sub` claims are condition keys; custom claims
# such as `environment` or `ref_protected` are not (IAM User Guide, "Available keys for AWS
# web identity federation"). So every GitLab fact the role depends on must be inside `sub`.
#
# What GitLab puts in `sub`: `project_path:<path>:ref_type:<branch|tag>:ref:<name>` by
# default; the project setting `ci_id_token_sub_claim_components` appends further claims as
# `<claim>:<value>` pairs (docs.gitlab.com, "OpenID Connect (OIDC) Authentication Using ID
# Tokens" and the projects API). `batchops gitlab configure` sets the components to
# project_path, ref_type, ref, environment_protected, deployment_tier (the order below), so
# a job of the protected `production` environment on main gets
#   project_path:ml/batchops:ref_type:branch:ref:main:environment_protected:true:deployment_tier:production
# Git forbids ':' in ref names, so `...:ref:main:*` cannot match another branch.
locals {
  oidc_host = trimprefix(var.gitlab_url, "https://")
  audience  = coalesce(var.audience, var.gitlab_url)
  bases = var.any_branch ? ["project_path:${var.gitlab_project_path}:ref_type:branch:ref:*"] : [
    for r in var.allowed_refs : "project_path:${var.gitlab_project_path}:ref_type:${r.ref_type}:ref:${r.ref}"
  ]
  # Without a gate the role accepts the ref with or without the extra components (a project
  # that has not been configured yet mints the default sub); with a gate the components are
  # required and must say protected + tier, so an unconfigured project fails closed.
  subjects = sort(distinct(flatten([
    for base in local.bases : var.protected_environment_tier == null ? (var.any_branch ? [base] : [base, "${base}:*"]) : [
      "${base}:environment_protected:true:deployment_tier:${var.protected_environment_tier}"
    ]
  ])))
  policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitLabCiJobsOfOurProject"
      Effect    = "Allow"
      Principal = { Federated = var.oidc_provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.oidc_host}:aud" = local.audience }
        StringLike   = { "${local.oidc_host}:sub" = local.subjects }
      }
    }]
  }
}
