# Data-quality engine (src/batchops/monitor): benchmark against the plain polars floor and pandas.
# Its tests live in tests/monitor and run with the root pytest (test-python).
BENCH_TARGETS += bench-monitor
MONITOR_BENCH_ROWS ?= 1000000,10000000

.PHONY: bench-monitor
bench-monitor: $(STAMP) ## data-quality engine vs polars floor and pandas (writes benchmarks/results/data_quality.md)
	$(BIN)/python benchmarks/monitor_bench.py --rows $(MONITOR_BENCH_ROWS)
