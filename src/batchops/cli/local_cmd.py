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
    up.add_argument(
        "--port",
        type=port_number,
        default=0,
        help="TCP port on 127.0.0.1, 1-65535 (default: the state folder's previous port if "
        "free, else a free one)",
    )
    up.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="folder that keeps the cloud's state across restarts (AWS resources, executions, "
        "logs, events, dead letters, GitLab pipelines); start again on it to continue "
        "(default: a new folder under .batchops/local/)",
    )
    up.add_argument(
        "--no-bootstrap",
        action="store_true",
        help="start empty (e.g. to apply the Terraform roots into it)",
    )
    up.add_argument(
        "--keep-workspaces", action="store_true", help="keep step workspaces after success"
    )
    up.add_argument(
        "--authorization",
        choices=("enforce", "off"),
        default=None,
        help="check every assumed role's request as IAM does (enforce) or not (off); default: "
        "$BATCHOPS_LOCAL_AUTHORIZATION, else off — CLI commands act as batchops-deploy, so "
        "under enforcement what only a person may do is refused as on AWS",
    )
    up.add_argument(
        "--json",
        action="store_true",
        help="first stdout line: a JSON object (endpoint, gitlab_url, state_dir, restored) "
        "instead of endpoint=URL",
    )
    up.set_defaults(func=up_cmd)

    from batchops.cli.common import add_endpoint, add_env

    creds = commands.add_parser(
        "credentials",
        help="print credentials for an account's administrator or one of its roles",
        description="Credentials of the local cloud's account ENV: its administrator "
        "(unchecked, like the account's root user) or, with --role, a session of role "
        "ROLE_NAME assumed through STS (checked against the role's policies when the local "
        "cloud enforces permissions). Default output: shell export lines.",
    )
    add_env(creds)
    creds.add_argument("--role", default=None, metavar="ROLE_NAME", help="a role of the account")
    add_endpoint(creds)
    creds.add_argument(
        "--json",
        action="store_true",
        help="print STS Credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration) "
        "plus Account",
    )
    creds.set_defaults(func=credentials_cmd)


def port_number(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is out of range (1-65535, 0 = any)")
    return port


def up_cmd(args: argparse.Namespace) -> int:
    from batchops.localcloud.runtime import accounts_dir, start_local_cloud

    started = time.monotonic()
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    if args.state_dir is not None and args.state_dir.exists() and not args.state_dir.is_dir():
        from batchops.errors import ConfigError

        raise ConfigError(f"--state-dir {args.state_dir}: is a file, expected a folder")
    cloud = start_local_cloud(
        port=args.port,
        state_dir=args.state_dir,
        bootstrap=not args.no_bootstrap,
        options={
            "keep_workspaces": args.keep_workspaces,
            **({"authorization": args.authorization} if args.authorization else {}),
        },
    )
    from batchops.localcloud.aws.iam.authorization import enforcing

    checked = "enforced" if enforcing(cloud) else "off"
    try:
        if args.json:
            import json

            document = {
                "endpoint": cloud.endpoint,
                # the GitLab stand-in's API (the approval Lambda's gitlab_api_url)
                "gitlab_url": cloud.gitlab.url if cloud.gitlab is not None else None,
                "state_dir": str(cloud.state_dir),
                "accounts_dir": str(accounts_dir(cloud.state_dir)),
                "restored": cloud.restored,
                "authorization": checked,
                "ready_s": round(time.monotonic() - started, 2),
            }
            print(json.dumps(document), flush=True)
        else:
            print(f"endpoint={cloud.endpoint}", flush=True)
        restored = cloud.restored
        note = ""
        if restored.get("services") or restored.get("executions"):
            note = (
                f"\n  restored from {cloud.state_dir}: {restored.get('executions', 0)} "
                f"execution record(s), {len(restored.get('interrupted_executions', []))} "
                "interrupted (marked Failed)"
            )
        print(
            f"local cloud ready in {time.monotonic() - started:.1f}s (authorization {checked}); "
            f"state in {cloud.state_dir}"
            f"{note}\n  export BATCHOPS_ENDPOINT={cloud.endpoint}"
            f"\n  export BATCHOPS_ACCOUNTS_DIR={accounts_dir(cloud.state_dir)}  "
            "(backend.hcl of each account, for batchops doctor)\n  stop with Ctrl-C",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping the local cloud...", file=sys.stderr, flush=True)
        cloud.stop()
    return 0


def credentials_cmd(args: argparse.Namespace) -> int:
    import json

    from batchops.aws import endpoint_from
    from batchops.cli.common import settings_from
    from batchops.errors import ConfigError
    from batchops.localcloud.credentials import account_credentials

    settings = settings_from(args)
    endpoint = endpoint_from(args.endpoint)
    if endpoint is None:
        raise ConfigError(
            "batchops local credentials needs the local cloud's endpoint: --endpoint URL or "
            "BATCHOPS_ENDPOINT (start it with 'batchops local up')"
        )
    creds = account_credentials(endpoint, settings, args.role)
    if args.json:
        print(json.dumps(creds))
        return 0
    print(f"export AWS_ACCESS_KEY_ID={creds['AccessKeyId']}")
    print(f"export AWS_SECRET_ACCESS_KEY={creds['SecretAccessKey']}")
    print(f"export AWS_SESSION_TOKEN={creds['SessionToken']}")
    print(f"export AWS_ENDPOINT_URL={endpoint}")
    print(f"export AWS_DEFAULT_REGION={settings.region}")
    return 0
