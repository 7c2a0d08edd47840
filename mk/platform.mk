# Platform benchmarks: CLI start-up, local cloud readiness, executor overhead per step.
BENCH_TARGETS += bench-platform

.PHONY: bench-platform
bench-platform: $(STAMP) ## CLI start-up, local cloud ready, executor per-step overhead (benchmarks/results/platform.md)
	$(BIN)/python benchmarks/platform_bench.py

BENCH_TARGETS += bench-lifecycle

.PHONY: bench-lifecycle
bench-lifecycle: $(STAMP) ## the demo's lifecycle: warm vs cold containers vs a SageMaker estimate (benchmarks/results/lifecycle.md)
	$(BIN)/python -m benchmarks.lifecycle --first-run

BENCH_TARGETS += bench-persistence

.PHONY: bench-persistence
bench-persistence: $(STAMP) ## cost of the local cloud's state on disk: per request on vs off, restart, the demo (benchmarks/results/persistence.md)
	$(BIN)/python benchmarks/persistence_bench.py

BENCH_TARGETS += bench-authorization

.PHONY: bench-authorization
bench-authorization: $(STAMP) ## IAM authorization per request: plain moto vs local cloud off vs enforcing (benchmarks/results/authorization.md)
	$(BIN)/python benchmarks/authorization_bench.py
