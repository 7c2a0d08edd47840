variable "role_name" {
  description = "Name of the role (the settings' `access_role_name`, `batchops-deploy`)."
  type        = string
  default     = "batchops-deploy"

  validation {
    condition     = can(regex("^[a-zA-Z0-9+=,.@_-]{1,64}$", var.role_name))
    error_message = "role_name must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

variable "environment" {
  description = "Environment the account serves; `production` only accepts jobs of the protected `production` environment on `main`."
  type        = string

  validation {
    condition     = contains(["data-science", "staging", "production"], var.environment)
    error_message = "environment must be data-science, staging or production."
  }
}

variable "gitlab_url" {
  description = "GitLab instance issuing the ID tokens (the settings' `gitlab_url`), e.g. https://gitlab.com."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?(/[^?#]*)?$", var.gitlab_url)) && !endswith(var.gitlab_url, "/")
    error_message = "gitlab_url must be an https:// URL without a trailing slash, query or fragment."
  }
}

variable "audience" {
  description = "The `aud` the CI jobs request in `id_tokens`; null means the GitLab URL (CI asks for `aud: $CI_SERVER_URL`, GitLab's AWS guide uses the instance address)."
  type        = string
  default     = null

  validation {
    condition     = var.audience == null || length(coalesce(var.audience, " ")) > 0
    error_message = "audience must not be empty."
  }
}

variable "oidc_provider_arn" {
  description = "ARN of the account's GitLab OIDC provider (accounts/bootstrap creates it; account roots read it with a data source)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/<host>)."
  }
}

variable "gitlab_project_path" {
  description = "Project path (group/subgroup/project) allowed to assume the role (the settings' `gitlab_project`)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]+(/[a-zA-Z0-9_.-]+)+$", var.gitlab_project_path))
    error_message = "gitlab_project_path must be a full project path like group/project, without wildcards."
  }
}

variable "allowed_refs" {
  description = "Branches or tags whose pipelines may assume the role. Protect them in GitLab; production accepts only the `main` branch."
  type = list(object({
    ref_type = string
    ref      = string
  }))
  default = [{ ref_type = "branch", ref = "main" }]

  validation {
    condition     = length(var.allowed_refs) > 0 && alltrue([for r in var.allowed_refs : contains(["branch", "tag"], r.ref_type) && can(regex("^[a-zA-Z0-9._/-]+$", r.ref))])
    error_message = "allowed_refs needs at least one {ref_type = branch|tag, ref = <name without wildcards>}."
  }

  validation {
    condition     = var.environment != "production" || alltrue([for r in var.allowed_refs : r.ref_type == "branch" && r.ref == "main"])
    error_message = "The production deploy role may only be assumed from the protected main branch."
  }
}

variable "protected_environment_tier" {
  description = "When set, only a job in a protected GitLab environment of this deployment tier may assume the role (production: `production`, required)."
  type        = string
  default     = null

  validation {
    condition     = var.environment != "production" || var.protected_environment_tier == "production"
    error_message = "The production deploy role must require the protected production environment (protected_environment_tier = \"production\")."
  }
}

variable "max_session_duration" {
  description = "Longest session in seconds (a deploy job's length)."
  type        = number
  default     = 3600

  validation {
    condition     = var.max_session_duration >= 3600 && var.max_session_duration <= 43200
    error_message = "max_session_duration must be between 3600 and 43200 seconds."
  }
}

variable "policy_statements" {
  description = "Allow statements of the deploy jobs; actions must be named and resources must not be `*`."
  type = list(object({
    sid       = string
    actions   = list(string)
    resources = list(string)
  }))
  default = []

  validation {
    condition = alltrue([
      for s in var.policy_statements :
      can(regex("^[A-Za-z0-9]+$", s.sid)) && length(s.actions) > 0 && length(s.resources) > 0 &&
      !anytrue([for a in s.actions : a == "*" || endswith(a, ":*")]) && !contains(s.resources, "*")
    ])
    error_message = "Every policy_statements entry needs an alphanumeric sid, named actions (no '*' or 'service:*') and resources other than '*'."
  }
}

variable "tags" {
  description = "Tags added to the role."
  type        = map(string)
  default     = {}
}
