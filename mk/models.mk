# model-build / model-deploy benchmarks: HPO quality and pipeline time; batch transform throughput.
BENCH_TARGETS += bench-hpo bench-transform

.PHONY: bench-hpo bench-transform
bench-hpo: $(STAMP) ## TPE (20, 2 parallel) vs random (50) vs untuned; training pipeline on the local cloud (benchmarks/results/hpo.md)
	$(BIN)/python -m benchmarks.hpo

bench-transform: $(STAMP) ## Transform step serving loop (with and without polars) vs raw xgboost predict on 1M rows, 3 alternating rounds (benchmarks/results/transform.md)
	$(BIN)/python -m benchmarks.transform
