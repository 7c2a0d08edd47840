# Data-quality engine (src/batchops/monitor): benchmark against the plain polars floor, pandas
# and, each in its own virtualenv under .venv-peers/, the tools users pick instead; the engine
# also runs as the pipelines run it on AWS, under the scikit-learn image's runtime
# (.venv-images/, make image-runtimes) with the shipped polars wheels (make step-wheels).
# Its tests live in tests/monitor and run with the root pytest (test-python).
BENCH_TARGETS += bench-monitor
MONITOR_BENCH_ROWS ?= 1000000,10000000
# Largest size per peer (tool=rows, comma-separated; empty: no cap); unlisted peers run at
# every size. evidently runs at 1M rows by default: at 10M it needs close to the whole budget
# and ~10 GB; its 10M figure is then an extrapolation, marked as such in the table.
MONITOR_BENCH_PEER_ROWS ?= evidently=1000000
# Seconds a peer may take at one size before it is killed and reported as "> N s (killed)".
MONITOR_BENCH_PEER_TIMEOUT ?= 600
# Runs of a tool whose first run takes under 30 s; the fastest counts (the machine is shared).
MONITOR_BENCH_REPEAT ?= 3
# Peers to install and run (space-separated names of benchmarks/peers/*), all by default.
MONITOR_BENCH_PEERS ?= $(PEERS)

PEERS := duckdb ydata-profiling great-expectations whylogs evidently
PEERS_VENV := .venv-peers

.PHONY: bench-monitor
bench-monitor: $(STAMP) bench-peers-install image-runtimes step-wheels ## data-quality engine (project and sklearn-image runtimes) vs polars floor, pandas, duckdb, ydata-profiling, Great Expectations, whylogs, evidently (benchmarks/results/data_quality.md)
	$(BIN)/python benchmarks/monitor_bench.py --rows $(MONITOR_BENCH_ROWS) \
	  --peers "$(MONITOR_BENCH_PEERS)" --peer-rows "$(MONITOR_BENCH_PEER_ROWS)" \
	  --peer-timeout $(MONITOR_BENCH_PEER_TIMEOUT) --repeat $(MONITOR_BENCH_REPEAT)

# One virtualenv per peer, synced exactly to its pinned benchmarks/peers/<tool>/requirements.txt
# (requirements.in holds the top-level pins; make bench-peers-lock re-resolves). A peer that
# cannot be installed does not stop the benchmark: uv's output goes to .venv-peers/<tool>.failed
# and the table says "not installable: <reason>" (the install is retried on the next run).
.PHONY: bench-peers-install
bench-peers-install: $(MONITOR_BENCH_PEERS:%=$(PEERS_VENV)/%/.installed) ## create .venv-peers/<tool> for each benchmark peer (pinned, separate from .venv)

$(PEERS_VENV)/%/.installed: benchmarks/peers/%/requirements.txt | $(UV)
	@mkdir -p $(PEERS_VENV)
	@rm -f $(PEERS_VENV)/$*.failed
	@echo "bench-peers-install: $*"
	@if $(UV) venv --quiet --allow-existing $(PEERS_VENV)/$* > $(PEERS_VENV)/$*.log 2>&1 && \
	    $(UV) pip sync --quiet --python $(PEERS_VENV)/$*/bin/python $< >> $(PEERS_VENV)/$*.log 2>&1; \
	then touch $@; rm -f $(PEERS_VENV)/$*.log; \
	else mv $(PEERS_VENV)/$*.log $(PEERS_VENV)/$*.failed; \
	  echo "bench-peers-install: $* is not installable (see $(PEERS_VENV)/$*.failed); the benchmark reports it"; \
	fi

.PHONY: bench-peers-lock
bench-peers-lock: $(UV) ## re-resolve benchmarks/peers/*/requirements.txt from their requirements.in (needs PyPI)
	for tool in $(PEERS); do \
	  $(UV) pip compile --quiet --python-version 3.11 --annotation-style line \
	    --custom-compile-command "make bench-peers-lock" \
	    benchmarks/peers/$$tool/requirements.in -o benchmarks/peers/$$tool/requirements.txt; \
	done
