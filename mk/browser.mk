# Headless Chromium for the report test (tests/test_report_browser.py). Installed from
# Debian when missing and we may (root + apt-get); otherwise the test skips and says why.
TEST_TARGETS := browser-tools $(TEST_TARGETS)

.PHONY: browser-tools
browser-tools: ## install headless Chromium (Debian package) for the report test, if missing
	@if command -v chromium >/dev/null 2>&1; then \
	  echo "chromium: $$(command -v chromium)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium (apt-get)..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	    || echo "chromium could not be installed: the report browser test will skip"; \
	else \
	  echo "chromium not found and not installable here (needs root + apt-get): the report browser test will skip"; \
	fi
