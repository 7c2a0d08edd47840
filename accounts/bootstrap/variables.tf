# One root, applied once per account by an administrator of that account. Everything else
# (account id, region, GitLab URL and project, bucket names) is read from the account
# root's committed terraform.tfvars.json, so the two cannot disagree.
variable "environment" {
  description = "Account to bootstrap: data-science, staging or production (reads accounts/<environment>/terraform.tfvars.json)."
  type        = string

  validation {
    condition     = contains(["data-science", "staging", "production"], var.environment)
    error_message = "environment must be data-science, staging or production."
  }
}

variable "sandbox" {
  description = "Sandbox mode (the local cloud): the state bucket can be destroyed with its content."
  type        = bool
  default     = false
}

variable "owner" {
  description = "Team owning the resources (mandatory Owner tag)."
  type        = string
  default     = "ml-platform"
}

variable "cost_center" {
  description = "Cost center charged for the resources (mandatory CostCenter tag)."
  type        = string
  default     = "ml"
}
