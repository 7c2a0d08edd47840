# Platform benchmarks: CLI start-up, local cloud readiness, executor overhead per step.
BENCH_TARGETS += bench-platform

.PHONY: bench-platform
bench-platform: $(STAMP) ## CLI start-up, local cloud ready, executor per-step overhead (benchmarks/results/platform.md)
	$(BIN)/python benchmarks/platform_bench.py
