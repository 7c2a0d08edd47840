# Events, Lambda functions and notifications (issue 7).

BENCH_TARGETS += bench-events

.PHONY: bench-events
bench-events: $(STAMP) ## benchmark the event router (10,000 events) and approval -> GitLab latency
	$(BIN)/python benchmarks/events_bench.py
