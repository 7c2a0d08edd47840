data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  oidc_host = trimprefix(trimprefix(var.gitlab_url, "https://"), "http://")
  # GitLab's default subject claim: project_path:<group/project>:ref_type:<branch|tag>:ref:<name>.
  subjects = sort([for r in var.allowed_refs : "project_path:${var.gitlab_project_path}:ref_type:${r.ref_type}:ref:${r.ref}"])
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.gitlab[0].arn : (
    "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:oidc-provider/${local.oidc_host}"
  )
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  count = var.create_oidc_provider ? 1 : 0

  url            = var.gitlab_url
  client_id_list = [var.audience]
  tags           = var.tags
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = "Assumed by GitLab CI jobs of ${var.gitlab_project_path} (${join(", ", local.subjects)}) through OIDC; no static keys."
  max_session_duration = var.max_session_duration
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitLabCiOfOurProjectAndRefs"
      Effect    = "Allow"
      Principal = { Federated = local.provider_arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.oidc_host}:aud" = var.audience }
        StringLike   = { "${local.oidc_host}:sub" = local.subjects }
      }
    }]
  })
  tags = var.tags
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
