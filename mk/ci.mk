# GitLab CI configuration: schema validation, gitlab-ci-local (pinned in tools/ci/), and the
# pytest suite in tests/ci/ (routing, environment gates, OIDC, CODEOWNERS).
#
# The pytest suite is collected by `make test-python` like every other test; `ci-tools` is put
# in front of TEST_TARGETS so the tools it drives exist before pytest starts.

CI_TOOLS_DIR := tools/ci
GITLAB_CI_LOCAL := $(CI_TOOLS_DIR)/node_modules/.bin/gitlab-ci-local
CI_TOOLS_STAMP := $(CI_TOOLS_DIR)/node_modules/.installed
CI_FILES = .gitlab-ci.yml $(sort $(wildcard .gitlab/ci/*.yml))

TEST_TARGETS := ci-tools $(TEST_TARGETS) test-ci

$(CI_TOOLS_STAMP): $(CI_TOOLS_DIR)/package.json $(CI_TOOLS_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js 20 (gitlab-ci-local 4.73.0 runs on it)" >&2; exit 1; }
	cd $(CI_TOOLS_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: ci-rsync
ci-rsync:
	@if ! command -v rsync >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then SUDO=""; \
	  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null && command -v apt-get >/dev/null; then SUDO="sudo -n"; \
	  else echo "error: rsync not found: install it (e.g. 'sudo apt-get install rsync'); gitlab-ci-local copies the work tree with it to run jobs" >&2; exit 1; fi; \
	  echo "installing rsync with apt-get (gitlab-ci-local needs it to run jobs)"; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends rsync >/dev/null; \
	fi

.PHONY: ci-tools
ci-tools: $(CI_TOOLS_STAMP) ci-rsync ## install gitlab-ci-local 4.73.0 (npm, tools/ci/) and rsync (apt, if missing)

.PHONY: ci-validate
ci-validate: $(STAMP) ## validate .gitlab-ci.yml and .gitlab/ci/*.yml against GitLab's CI schema (offline)
	$(BIN)/check-jsonschema --builtin-schema vendor.gitlab-ci --data-transform gitlab-ci $(CI_FILES)

.PHONY: ci-list
ci-list: ci-tools ## list the jobs of the parent pipeline and of each child (needs a clone with an origin remote)
	@for f in $(CI_FILES); do echo "== $$f"; \
	  $(GITLAB_CI_LOCAL) --file "$$f" --list-all --ignore-predefined-vars CI_PIPELINE_SOURCE 2>/dev/null; done

.PHONY: test-ci
test-ci: ci-validate ci-tools ## GitLab CI files: schema check (the gitlab-ci-local and policy tests in tests/ci/ run in test-python)
