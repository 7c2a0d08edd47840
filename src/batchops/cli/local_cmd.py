"""``batchops local``: run the local cloud in the foreground."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "local", help="run the local cloud (AWS APIs for three accounts, offline)"
    )
    commands = parser.add_subparsers(dest="local_command", metavar="ACTION")
    up = commands.add_parser(
        "up",
        help="start the local cloud in the foreground; first stdout line: endpoint=URL",
        description="Serve the AWS APIs batchops uses on 127.0.0.1 for the data-science, "
        "staging and production accounts, run SageMaker pipeline executions, and route "
        "events. Stops on Ctrl-C or SIGTERM.",
    )
    up.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    up.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where executions, logs and the event log are kept (default .batchops/local-PORT)",
    )
    up.add_argument(
        "--no-bootstrap",
        action="store_true",
        help="start empty (e.g. to apply the Terraform roots into it)",
    )
    up.add_argument(
        "--keep-workspaces", action="store_true", help="keep step workspaces after success"
    )
    up.set_defaults(func=up_cmd)


def up_cmd(args: argparse.Namespace) -> int:
    from batchops.localcloud.runtime import start_local_cloud

    started = time.monotonic()
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    cloud = start_local_cloud(
        port=args.port,
        state_dir=args.state_dir,
        bootstrap=not args.no_bootstrap,
        options={"keep_workspaces": args.keep_workspaces},
    )
    try:
        print(f"endpoint={cloud.endpoint}", flush=True)
        print(
            f"local cloud ready in {time.monotonic() - started:.1f}s; state in {cloud.state_dir}\n"
            f"  export BATCHOPS_ENDPOINT={cloud.endpoint}\n  stop with Ctrl-C",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping the local cloud...", file=sys.stderr, flush=True)
        cloud.stop()
    return 0
