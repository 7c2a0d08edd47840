# The role CI deploy jobs assume. The account's GitLab OIDC provider is not created here:
# IAM holds one provider per URL per account (a second CreateOpenIDConnectProvider fails
# with EntityAlreadyExists), and CI needs it before any pipeline can authenticate, so
# accounts/bootstrap creates it once and the account roots pass its ARN in.
module "trust" {
  source = "../gitlab-oidc-trust"

  gitlab_url                 = var.gitlab_url
  audience                   = var.audience
  oidc_provider_arn          = var.oidc_provider_arn
  gitlab_project_path        = var.gitlab_project_path
  allowed_refs               = var.allowed_refs
  protected_environment_tier = var.protected_environment_tier
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "Assumed by GitLab CI jobs of ${var.gitlab_project_path} (${join(", ", [for r in var.allowed_refs : "${r.ref_type} ${r.ref}"])}${var.protected_environment_tier == null ? "" : ", protected ${var.protected_environment_tier} environment only"}) through OIDC; no static keys."
  max_session_duration = var.max_session_duration
  assume_role_policy   = module.trust.policy_json
  tags                 = var.tags
}

resource "aws_iam_role_policy" "this" {
  count = length(var.policy_statements) > 0 ? 1 : 0

  name = "${var.role_name}-permissions"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [for s in var.policy_statements : { Sid = s.sid, Effect = "Allow", Action = s.actions, Resource = s.resources }]
  })
}
