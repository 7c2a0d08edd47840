# batchops — the two commands every user runs are `make demo` and `make test`.
# Everything they need (virtualenvs, npm tools, the checkov venv) is installed here.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .venv-tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT ?= out/demo
export UV_PYTHON := $(shell command -v $(PYTHON))
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_LINK_MODE := copy

# Extra test suites (infrastructure, CI configuration...) add themselves here from mk/*.mk.
TEST_TARGETS := test-python
#: what the suites need installed before `make test` runs them side by side (mk/*.mk add theirs)
TEST_PREREQUISITES :=
BENCH_TARGETS :=

-include mk/*.mk

.PHONY: help
help: ## list the targets
	@echo "batchops — make targets"
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | sort -u | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(STAMP): $(UV) uv.lock pyproject.toml model-build/pyproject.toml model-deploy/pyproject.toml
	$(UV) sync --frozen --all-packages --all-extras --compile-bytecode --quiet
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv (if missing) and install batchops, both team projects and dev tools

.PHONY: lock
lock: $(UV) ## re-resolve dependencies into uv.lock (needs PyPI)
	$(UV) lock

.PHONY: demo
demo: $(STAMP) ## run the whole lifecycle on the local cloud (no AWS account, no network)
	$(BIN)/batchops demo --out $(OUT)

# `make test` installs everything first, then runs pytest and, beside it, the suites that do
# not need it (Terraform, checkov, the CI schema): their output goes to out/test/side-suites.log
# and is printed after pytest's, and the run fails if any of them fails. pytest alone keeps both
# cores busy for most of its run, but not in its tail, where these fit.
SIDE_SUITES := $(filter test-infra test-policies test-ci,$(TEST_TARGETS))
TEST_SETUP := $(filter-out test-python $(SIDE_SUITES),$(TEST_TARGETS))
SIDE_LOG := out/test/side-suites.log

.PHONY: test
test: $(TEST_SETUP) $(STAMP) $(TEST_PREREQUISITES) ## install what the tests need and run every test suite
	@mkdir -p $(dir $(SIDE_LOG)) && rm -f $(SIDE_LOG).rc
	@echo "make test: $(SIDE_SUITES) run beside test-python (output after pytest's; $(SIDE_LOG))"
	@{ $(MAKE) --no-print-directory $(SIDE_SUITES) >$(SIDE_LOG) 2>&1; echo $$? >$(SIDE_LOG).rc; } & \
	side=$$!; python=0; $(MAKE) --no-print-directory test-python || python=$$?; \
	wait $$side || true; side_rc=$$(cat $(SIDE_LOG).rc 2>/dev/null || echo 1); \
	echo "== $(SIDE_SUITES) (run beside pytest)"; cat $(SIDE_LOG); \
	echo "make test: test-python exit $$python, $(SIDE_SUITES) exit $$side_rc"; \
	[ "$$python" = 0 ] && [ "$$side_rc" = 0 ]

# pytest-xdist workers (0: one process). A test file runs whole in one worker, so module
# fixtures (a local cloud, the three-account Terraform apply) are not started twice; most of
# the long tests wait on subprocesses (Terraform, step containers), so 3 workers keep a
# 2-core machine busy without oversubscribing it.
PYTEST_WORKERS ?= 3

.PHONY: test-python
test-python: $(STAMP) ## Python tests: package, both teams' projects, policies (PYTEST_WORKERS=3)
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff (lint + format check) and mypy on src/
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

.PHONY: fmt
fmt: $(STAMP) ## format Python (ruff) and Terraform
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	terraform fmt -recursive >/dev/null || true

.PHONY: build
build: $(STAMP) ## build the Lambda zips into dist/functions/ for the Lambda runtime (deterministic)
	BATCHOPS_UV=$(abspath $(UV)) $(BIN)/python -m batchops.build --out dist/functions

.PHONY: bench
bench: $(STAMP) $(BENCH_TARGETS) ## run every benchmark and write benchmarks/results/README.md
	$(BIN)/python -m benchmarks.summary

.PHONY: clean
clean: ## remove virtualenvs, build output and local-cloud state
	rm -rf $(VENV) $(TOOLS) .venv-peers dist out .batchops .pytest_cache .mypy_cache .ruff_cache
