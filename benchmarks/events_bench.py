"""Event benchmarks: router throughput and approval -> GitLab trigger latency.

* Throughput: 10,000 synthetic events through the local router (moto's pattern matcher,
  the six deployed batchops rules plus one rule whose Lambda target is an in-process
  counter), side by side with moto's own EventBridge ``put_events`` delivering the same
  events to an SQS target (what a moto user gets without our router). Goal >= 2,000/s.
* Latency: approve a model version on a local cloud and time until the GitLab stand-in
  records the trigger (goal < 1 s), checking exactly one trigger per version.

Run: ``python benchmarks/events_bench.py`` (``make bench``); writes
``benchmarks/results/events.md``.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
import threading
import time
import types
import uuid
import zipfile
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "events.md"
EVENTS = int(__import__("os").environ.get("BENCH_EVENTS", "10000"))
#: moto's put_events -> SQS slows down as the queue grows (~30 events/s here): 1,000 is enough
MOTO_EVENTS = min(EVENTS, 1000)
APPROVALS = 10
DS = "111111111111"
_count = 0
_lock = threading.Lock()


def counter(event: dict[str, Any], context: Any) -> None:
    global _count  # noqa: PLW0603
    with _lock:
        _count += 1


def synthetic(i: int) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": "bench.synthetic",
        "detail-type": "Bench Event",
        "account": DS,
        "region": "us-east-1",
        "time": "2026-01-05T10:00:00Z",
        "resources": [],
        "detail": {"n": i, "kind": "x"},
    }


def router_throughput(cloud: Any, clients: Any) -> float:
    module = types.ModuleType("events_bench_handlers")
    module.counter = counter  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module
    iam, lam, events = clients.client("iam"), clients.client("lambda"), clients.client("events")
    role = iam.create_role(RoleName="bench-counter", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.txt", "in-process")
    arn = lam.create_function(
        FunctionName="bench-counter",
        Runtime="python3.12",
        Role=role,
        Handler="events_bench_handlers.counter",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]
    events.put_rule(
        Name="bench",
        EventPattern=json.dumps({"source": ["bench.synthetic"], "detail": {"kind": ["x"]}}),
    )
    events.put_targets(Rule="bench", Targets=[{"Id": "fn", "Arn": arn}])
    cloud.bus.emit(synthetic(-1))  # warm up: credentials, import
    cloud.router.wait_idle(60)
    batch = [synthetic(i) for i in range(EVENTS)]
    start = time.perf_counter()
    for event in batch:
        cloud.router(event)  # the bus subscriber entry (the event log write is the bus's)
    assert cloud.router.wait_idle(600)
    elapsed = time.perf_counter() - start
    assert _count == EVENTS + 1, _count
    return EVENTS / elapsed


def moto_put_events_throughput() -> float:
    import boto3
    from moto import mock_aws

    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue = sqs.create_queue(QueueName="bench")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.events.models import events_backends

        backend = events_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        events = boto3.client("events", region_name="us-east-1")
        events.put_rule(
            Name="bench",
            EventPattern=json.dumps({"source": ["bench.synthetic"], "detail": {"kind": ["x"]}}),
        )
        events.put_targets(Rule="bench", Targets=[{"Id": "q", "Arn": queue_arn}])
        entries = [
            {
                "Source": "bench.synthetic",
                "DetailType": "Bench Event",
                "Detail": json.dumps({"n": i, "kind": "x"}),
            }
            for i in range(EVENTS)
        ]
        start = time.perf_counter()
        for i in range(0, MOTO_EVENTS, 10):
            backend.put_events(entries[i : i + 10])  # in-process, no HTTP: moto's best case
        return MOTO_EVENTS / (time.perf_counter() - start)


def approval_latency(cloud: Any, clients: Any) -> list[float]:
    sm = clients.client("sagemaker")
    latencies = []
    for _ in range(APPROVALS):
        arn = sm.create_model_package(
            ModelPackageGroupName="batchops-abalone",
            ModelApprovalStatus="PendingManualApproval",
            InferenceSpecification={
                "Containers": [{"Image": "xgboost"}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        start = time.perf_counter()
        sm.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
        while not [
            t for t in cloud.gitlab.triggers() if t["variables"]["MODEL_PACKAGE_ARN"] == arn
        ]:
            if time.perf_counter() - start > 30:
                raise RuntimeError(f"no trigger for {arn} within 30 s")
            time.sleep(0.002)
        latencies.append(time.perf_counter() - start)
        print(f"approval {len(latencies)}: {latencies[-1]:.3f}s", file=sys.stderr, flush=True)
    cloud.router.wait_idle(60)
    arns = [t["variables"]["MODEL_PACKAGE_ARN"] for t in cloud.gitlab.triggers()]
    assert len(arns) == len(set(arns)) == APPROVALS, "exactly one trigger per approved version"
    return latencies


def main() -> int:
    import logging

    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.localcloud.runtime import local_cloud

    logging.basicConfig(level=logging.ERROR)
    with (
        tempfile.TemporaryDirectory() as state,
        local_cloud(state_dir=Path(state), options={"gitlab_run_jobs": False}) as cloud,
    ):
        clients = clients_for(load_settings("data-science"), cloud.endpoint)
        latencies = approval_latency(cloud, clients)
        ours = router_throughput(cloud, clients)
    theirs = moto_put_events_throughput()
    first, warm = latencies[0], latencies[1:]
    lines = [
        "# Events benchmark",
        "",
        f"Machine: shared 2-core box; Python {sys.version.split()[0]}. "
        "Regenerate with `make bench` (or `python benchmarks/events_bench.py`).",
        "",
        f"## Router throughput ({EVENTS:,} synthetic events, matched and delivered)",
        "",
        "| implementation | events/s | ratio | goal |",
        "|---|---:|---:|---|",
        f"| batchops local router -> in-process Lambda handler (7 rules) | {ours:,.0f} | "
        f"{ours / theirs:.2f}x | >= 2,000/s: {'met' if ours >= 2000 else 'MISSED'} |",
        f"| moto `put_events` in-process -> SQS target (1 rule; {MOTO_EVENTS:,} events) "
        f"| {theirs:,.0f} | 1.00x | |",
        "",
        f"## Approval -> GitLab trigger latency ({APPROVALS} versions, local cloud)",
        "",
        "| measure | seconds |",
        "|---|---:|",
        f"| first approval (cold: imports, role credentials) | {first:.3f} |",
        f"| median of the next {len(warm)} | {statistics.median(warm):.3f} |",
        f"| max of the next {len(warm)} | {max(warm):.3f} |",
        "",
        f"Goal < 1 s: {'met' if max(warm) < 1 else 'MISSED'} (warm); exactly one trigger per "
        "version: checked.",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
