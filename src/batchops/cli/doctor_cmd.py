"""``batchops doctor``: read-only preflight of one account (see batchops.doctor)."""

from __future__ import annotations

import argparse
from pathlib import Path

from batchops.cli.common import add_endpoint, add_json, emit_json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="read-only preflight of one account: identity, CI roles and their trust, "
        "buckets, key, registry, events, functions, secret, pipelines, images",
        description="Prints one line per check (ok / FAIL with what to do) and exits 1 on any "
        "FAIL; changes nothing. On AWS it uses your credentials as they are (no role is "
        "assumed): sign in to the account of --env first. With --endpoint or "
        "BATCHOPS_ENDPOINT it checks the local cloud.",
    )
    parser.add_argument(
        "--env", required=True, choices=["data-science", "staging", "production"], help="account"
    )
    parser.add_argument(
        "--accounts-dir",
        type=Path,
        default=None,
        help="the Terraform roots' folder whose <env>/backend.hcl is compared with the state "
        "bucket (default: BATCHOPS_ACCOUNTS_DIR, which `batchops local up` prints for its "
        "cloud, else accounts/ of this repository)",
    )
    add_endpoint(parser)
    add_json(parser)
    parser.set_defaults(func=doctor_cmd)


def doctor_cmd(args: argparse.Namespace) -> int:
    from batchops.aws import Clients, clients_for, endpoint_from
    from batchops.config import find_config_dir, load_settings
    from batchops.doctor import run_doctor

    settings = load_settings(args.env)
    endpoint = endpoint_from(args.endpoint)
    # The local cloud chooses the account by AssumeRole (as CI does); on AWS doctor checks
    # the credentials it is given and never assumes a role with them.
    clients = (
        clients_for(settings, endpoint)
        if endpoint
        else Clients(region=settings.region, session_name="batchops-doctor")
    )
    import os

    accounts = (
        args.accounts_dir
        or (
            Path(os.environ["BATCHOPS_ACCOUNTS_DIR"])
            if os.environ.get("BATCHOPS_ACCOUNTS_DIR")
            else None
        )
        or find_config_dir().parent / "accounts"
    )
    results = run_doctor(settings, clients, accounts)
    failed = [r for r in results if not r.ok]
    if args.json:
        emit_json(
            {
                "environment": settings.environment,
                "account_id": settings.account_id,
                "ok": not failed,
                "checks": [r.to_json() for r in results],
            }
        )
    else:
        for result in results:
            print(result.line())
        print(
            f"doctor {settings.environment} ({settings.account_id}): "
            f"{len(results) - len(failed)} ok, {len(failed)} FAIL"
        )
    return 1 if failed else 0
