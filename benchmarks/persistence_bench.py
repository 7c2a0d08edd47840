"""What keeping the local cloud's state on disk costs, side by side with not keeping it.

Every request that may change a service is followed by a snapshot of that service's
backends in the caller's account before the answer goes out (``localcloud/persistence.py``),
so a ``kill -9`` loses at most the requests in flight. Measured in one run, each side in its
own process so neither inherits the other's moto state:

* per mutating request: S3 ``PutObject`` (10 KiB) and DynamoDB ``PutItem``, on an empty
  account and on one already holding 2,000 objects / items (a snapshot grows with the
  state), persistence on vs off — the ratio is the cost;
* a read (``GetObject``) — never snapshotted, so it should cost the same;
* routing events: ``PutEvents`` to a rule with an SQS target until the router is idle — with
  persistence on, each event is accepted into the router's ledger, then marked delivered
  and settled (``localcloud/aws/events/ledger.py``), so a restart delivers what was owed;
* a restart on the state folder: time to load the snapshots back;
* the demo's lifecycle (``timings_s.total``), persistence on vs off (goal: ≤ 30 s with it on).

Writes ``benchmarks/results/persistence.md``. ``--quick`` skips the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
BODY = b"x" * 10_240


def _timed(call, count: int) -> float:  # type: ignore[no-untyped-def]
    """Mean milliseconds per call (a mean, not a median: it counts the periodic snapshots)."""
    started = time.perf_counter()
    for index in range(count):
        call(index)
    return (time.perf_counter() - started) / count * 1000


def worker(persist: bool, state: Path) -> dict[str, float]:
    """One side: a local cloud in this process, requests through boto3 over HTTP."""
    import boto3

    from batchops.localcloud.runtime import start_local_cloud

    cloud = start_local_cloud(
        state_dir=state, bootstrap=False, options={"persist": persist, "gitlab_run_jobs": False}
    )
    try:
        session = boto3.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
        )
        s3 = session.client("s3", endpoint_url=cloud.endpoint)
        ddb = session.client("dynamodb", endpoint_url=cloud.endpoint)
        s3.create_bucket(Bucket="bench")
        ddb.create_table(
            TableName="bench",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        put = lambda i, p="": s3.put_object(Bucket="bench", Key=f"{p}{i}", Body=BODY)  # noqa: E731
        item = lambda i, p="": ddb.put_item(  # noqa: E731
            TableName="bench", Item={"pk": {"S": f"{p}{i}"}, "v": {"S": "x" * 200}}
        )
        result = {
            "s3_put_empty_ms": _timed(put, 200),
            "ddb_put_empty_ms": _timed(item, 200),
        }
        for i in range(2000):
            put(i, "fill-")
            item(i, "fill-")
        result["s3_put_2000_ms"] = _timed(lambda i: put(i, "big-"), 200)
        result["ddb_put_2000_ms"] = _timed(lambda i: item(i, "big-"), 200)
        result["s3_get_ms"] = _timed(lambda i: s3.get_object(Bucket="bench", Key=str(i)), 200)
        result["event_ms"] = _routed_events(session, cloud, 200)
        if cloud.state is not None:
            result["snapshots"] = float(cloud.state.writes)
            result["snapshot_ms_each"] = cloud.state.seconds / max(cloud.state.writes, 1) * 1000
            result["snapshot_bytes"] = float(cloud.state.bytes_written)
            result["journal_bytes"] = float(cloud.state.journal.bytes_written)
        if cloud.router is not None and cloud.router.ledger is not None:
            result["ledger_lines"] = float(cloud.router.ledger.written)
    finally:
        cloud.stop()
    if persist:
        started = time.perf_counter()
        again = start_local_cloud(
            state_dir=state, bootstrap=False, options={"gitlab_run_jobs": False}
        )
        result["restart_s"] = time.perf_counter() - started
        result["restore_s"] = float(again.restored.get("seconds", 0.0))
        again.stop()
    return result


def _routed_events(session, cloud, count: int) -> float:  # type: ignore[no-untyped-def]
    """Mean milliseconds per event from ``PutEvents`` to delivered (router idle again)."""
    events = session.client("events", endpoint_url=cloud.endpoint)
    sqs = session.client("sqs", endpoint_url=cloud.endpoint)
    queue = sqs.create_queue(QueueName="bench-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    events.put_rule(Name="bench", EventPattern=json.dumps({"source": ["bench"]}))
    events.put_targets(
        Rule="bench", Targets=[{"Id": "q", "Arn": queue_arn["Attributes"]["QueueArn"]}]
    )
    entry = {"Source": "bench", "DetailType": "bench", "Detail": json.dumps({"n": 1})}
    started = time.perf_counter()
    for _ in range(count // 10):
        events.put_events(Entries=[entry] * 10)
    if cloud.router is None or not cloud.router.wait_idle(120):
        raise RuntimeError("the event router did not deliver the benchmark's events")
    return (time.perf_counter() - started) / count * 1000


def side(persist: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        done = subprocess.run(
            [sys.executable, __file__, "--worker", "on" if persist else "off", folder],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def demo_total(persist: bool) -> float:
    with tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "BATCHOPS_LOCAL_PERSIST": "1" if persist else "0"}
        subprocess.run(
            [sys.executable, "-m", "batchops", "demo", "--out", out, "--json"],
            check=True,
            capture_output=True,
            env=env,
            cwd=ROOT,
        )
        summary = json.loads((Path(out) / "summary.json").read_text())
    return float(summary["timings_s"]["total"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=["on", "off"])
    parser.add_argument("state", nargs="?")
    parser.add_argument("--quick", action="store_true", help="skip the demo runs")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker == "on", Path(args.state))))
        return
    off, on = side(False), side(True)
    rows = [
        ("S3 PutObject 10 KiB, empty account", "s3_put_empty_ms"),
        ("S3 PutObject 10 KiB, 2,000 objects", "s3_put_2000_ms"),
        ("DynamoDB PutItem, empty table", "ddb_put_empty_ms"),
        ("DynamoDB PutItem, 2,000 items", "ddb_put_2000_ms"),
        ("S3 GetObject (a read: no snapshot)", "s3_get_ms"),
        ("event routed to an SQS target (PutEvents, batches of 10)", "event_ms"),
    ]
    lines = [
        "# Persistence of the local cloud's state",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on the shared 2-core machine while other work "
        "ran (loaded: absolute figures are noisy; the ratios come from one run, each side in its "
        "own process). Mean of 200 requests through boto3 over HTTP (periodic snapshots included).",
        "",
        "| request | persistence off (ms) | on (ms) | ratio |",
        "|---|---|---|---|",
    ]
    for label, key in rows:
        lines.append(f"| {label} | {off[key]:.2f} | {on[key]:.2f} | {on[key] / off[key]:.2f}x |")
    lines += [
        "",
        f"Snapshots in the run: {on['snapshots']:.0f}, {on['snapshot_ms_each']:.1f} ms each on "
        f"average (object and item writes are journaled, {on['journal_bytes'] / 1e6:.1f} MB, "
        f"and snapshotted every 200); snapshots wrote {on['snapshot_bytes'] / 1e6:.1f} MB (S3 "
        "bodies once each, as blob files).",
        f"The router's ledger wrote {on.get('ledger_lines', 0):.0f} lines for the "
        "benchmark's events (accept, delivered, settled: three per event, appended, no fsync).",
        f"Restart on the state folder (2,400 objects and items): {on['restart_s']:.2f} s to ready, "
        f"of which {on['restore_s']:.2f} s loading the snapshots.",
    ]
    if not args.quick:
        without, with_state = demo_total(False), demo_total(True)
        lines += [
            "",
            "| demo lifecycle (`timings_s.total`) | persistence off | on | ratio | goal |",
            "|---|---|---|---|---|",
            f"| `batchops demo` | {without:.1f} s | {with_state:.1f} s | "
            f"{with_state / without:.2f}x | ≤ 30 s with it on: "
            f"{'met' if with_state <= 30 else 'missed'} |",
        ]
    (RESULTS / "persistence.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
