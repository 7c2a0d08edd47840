variable "gitlab_url" {
  description = "GitLab instance issuing the ID tokens (its OIDC issuer, the settings' `gitlab_url`), e.g. https://gitlab.com."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?(/[^?#]*)?$", var.gitlab_url)) && !endswith(var.gitlab_url, "/")
    error_message = "gitlab_url must be an https:// URL without a trailing slash, query or fragment."
  }
}

variable "audience" {
  description = "The `aud` the CI jobs request in `id_tokens`; null means the GitLab URL, as CI asks for `aud: $CI_SERVER_URL` (GitLab's AWS guide: audience = the instance address)."
  type        = string
  default     = null

  validation {
    condition     = var.audience == null || length(coalesce(var.audience, " ")) > 0
    error_message = "audience must not be empty."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the account's IAM OIDC provider for gitlab_url (created once per account by accounts/bootstrap)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<host>)."
  }
}

variable "gitlab_project_path" {
  description = "Project path (group/subgroup/project) whose jobs may assume the role (the settings' `gitlab_project`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)+$", var.gitlab_project_path))
    error_message = "gitlab_project_path must be a full project path like group/project, without wildcards."
  }
}

variable "allowed_refs" {
  description = "Branches or tags whose jobs may assume the role (protect them in GitLab). Ignored when any_branch is true."
  type = list(object({
    ref_type = string
    ref      = string
  }))
  default = [{ ref_type = "branch", ref = "main" }]

  validation {
    condition     = length(var.allowed_refs) > 0 && alltrue([for r in var.allowed_refs : contains(["branch", "tag"], r.ref_type) && can(regex("^[a-zA-Z0-9._/-]+$", r.ref))])
    error_message = "allowed_refs needs at least one {ref_type = branch|tag, ref = <name without wildcards>}."
  }
}

variable "any_branch" {
  description = "Trust jobs of every branch of the project (merge request pipelines of a read-only plan role). AWS sees no pipeline_source for a GitLab provider, so \"merge requests only\" cannot be enforced: keep such roles read-only."
  type        = bool
  default     = false
}

variable "protected_environment_tier" {
  description = "When set, only a job running in a protected GitLab environment of this deployment tier may assume the role (the `environment_protected` and `deployment_tier` components of `sub`, configured by `batchops gitlab configure`)."
  type        = string
  default     = null

  validation {
    condition     = var.protected_environment_tier == null || contains(["production", "staging", "testing", "development", "other"], coalesce(var.protected_environment_tier, "other"))
    error_message = "protected_environment_tier must be a GitLab deployment tier: production, staging, testing, development or other."
  }

  validation {
    condition     = var.protected_environment_tier == null || !var.any_branch
    error_message = "A protected-environment gate needs named refs (any_branch = false)."
  }
}
