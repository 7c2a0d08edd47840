terraform {
  # Cross-variable validation needs 1.9; modules take a range, roots pin exactly.
  # No provider: this module only renders a trust policy document.
  required_version = ">= 1.9.0"
}
