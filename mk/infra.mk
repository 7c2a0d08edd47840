# Infrastructure checks: terraform fmt/validate/test for every shared module and account root.
#
# Provider installation: TF_PLUGIN_DIR names a filesystem mirror of hashicorp/aws
# (<dir>/registry.terraform.io/hashicorp/aws/...). When it is unset the usual plugin folders
# are searched; when none holds the provider, Terraform installs from the registry as usual.
# The generated CLI config lives in .infra-work/ and is used only by these targets.
INFRA_WORK := .infra-work
TF_PLUGIN_CANDIDATES := $(TF_PLUGIN_DIR) $(HOME)/.terraform.d/plugins \
  $(or $(XDG_DATA_HOME),$(HOME)/.local/share)/terraform/plugins \
  /opt/tf-plugins /usr/local/share/terraform/plugins /usr/share/terraform/plugins
TF_MIRROR := $(firstword $(foreach d,$(TF_PLUGIN_CANDIDATES),$(if $(wildcard $(d)/registry.terraform.io/hashicorp/aws),$(d))))

TEST_TARGETS += test-infra

$(INFRA_WORK)/terraformrc: FORCE
	@mkdir -p $(INFRA_WORK)/plugin-cache
	@{ echo 'plugin_cache_dir = "$(abspath $(INFRA_WORK))/plugin-cache"'; \
	  if [ -n "$(TF_MIRROR)" ]; then \
	    echo 'provider_installation {'; \
	    echo '  filesystem_mirror {'; \
	    echo '    path    = "$(TF_MIRROR)"'; \
	    echo '    include = ["registry.terraform.io/hashicorp/*"]'; \
	    echo '  }'; \
	    echo '  direct {'; \
	    echo '    exclude = ["registry.terraform.io/hashicorp/*"]'; \
	    echo '  }'; \
	    echo '}'; \
	  fi; } > $@.tmp && mv $@.tmp $@

.PHONY: FORCE
FORCE:

.PHONY: test-infra
test-infra: $(STAMP) $(INFRA_WORK)/terraformrc ## Terraform: fmt -check, init, validate and mock tests of every module and root
	@if ! command -v terraform >/dev/null; then echo "test-infra: SKIPPED - terraform is not on PATH (install Terraform >= 1.9)"; exit 0; fi; \
	if [ -z "$(TF_MIRROR)" ] && ! curl -sSf -m 5 -o /dev/null https://registry.terraform.io/.well-known/terraform.json 2>/dev/null; then \
	  echo "test-infra: SKIPPED - no provider mirror (set TF_PLUGIN_DIR; searched: $(strip $(TF_PLUGIN_CANDIDATES))) and registry.terraform.io unreachable"; exit 0; fi; \
	echo "test-infra: providers from $(or $(TF_MIRROR),registry.terraform.io)"; \
	TF_CLI_CONFIG_FILE=$(abspath $(INFRA_WORK))/terraformrc TF_IN_AUTOMATION=1 $(BIN)/python tests/infra/tfharness.py
	@if command -v tflint >/dev/null; then tflint --recursive --config "$(CURDIR)/.tflint.hcl"; \
	else echo "tflint: SKIPPED locally - not installed (GitLab CI runs it from its image with .tflint.hcl)"; fi

# checkov: its own virtualenv (checkov 3.x pins old boto3/packaging/networkx, which must not
# leak into .venv), installed from the pinned, committed policies/requirements-checkov.txt.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
CHECKOV := $(CHECKOV_VENV)/bin/checkov
POLICY_REPORTS := out/policies
CHECKOV_ARGS := --skip-download --compact --external-checks-dir policies/checks

$(CHECKOV_STAMP): $(UV) policies/requirements-checkov.txt
	$(UV) venv --quiet --allow-existing $(CHECKOV_VENV)
	$(UV) pip install --quiet --python $(CHECKOV_VENV)/bin/python -r policies/requirements-checkov.txt
	@touch $@

.PHONY: checkov
checkov: $(CHECKOV_STAMP) ## create .venv-checkov (pinned checkov, separate from .venv)

# The policy fixtures (policies/tests, collected by test-python) drive checkov.
test-python: $(CHECKOV_STAMP)

TEST_TARGETS += test-policies
TEST_PREREQUISITES += $(CHECKOV_STAMP) $(INFRA_WORK)/terraformrc

.PHONY: test-policies
test-policies: $(CHECKOV_STAMP) ## checkov (built-in + policies/checks) over shared-modules and accounts: 0 failed; JUnit + GitLab SAST in out/policies
	@mkdir -p $(POLICY_REPORTS)
	$(CHECKOV) -d shared-modules -d accounts --framework terraform $(CHECKOV_ARGS) --quiet \
	  -o cli -o junitxml -o gitlab_sast \
	  --output-file-path console,$(POLICY_REPORTS)/checkov-junit.xml,$(POLICY_REPORTS)/gl-sast-report.json

BENCH_TARGETS += bench-infra

.PHONY: bench-infra
bench-infra: $(STAMP) $(INFRA_WORK)/terraformrc $(CHECKOV_STAMP) ## infrastructure tests: parallel vs sequential, one module, apply, checkov (benchmarks/results/infra.md)
	$(BIN)/python -m benchmarks.infra_bench
