"""``batchops notifications list``: the local cloud's SNS outbox (what would have been e-mailed)."""

from __future__ import annotations

import argparse
from typing import Any

from batchops.cli.common import add_endpoint, add_json, emit_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "notifications", help="notifications sent through SNS on the local cloud"
    )
    commands = parser.add_subparsers(dest="notifications_command", metavar="ACTION")
    listing = commands.add_parser(
        "list",
        help="list the messages published to SNS topics (the e-mails on AWS)",
        description="Every message published to an SNS topic of the local cloud, with the "
        "e-mail recipients it would reach on AWS. Needs --endpoint or BATCHOPS_ENDPOINT.",
    )
    listing.add_argument("--env", default=None, help="only this environment's account")
    add_endpoint(listing)
    add_json(listing)
    listing.set_defaults(func=list_cmd)


def fetch_internal(endpoint: str | None, name: str) -> Any:
    """GET ``/_batchops/<name>`` from the local cloud (one-line error if unreachable)."""
    import json
    import urllib.error
    import urllib.request

    from batchops.aws import endpoint_from
    from batchops.errors import CloudError

    url = endpoint_from(endpoint)
    if not url:
        raise CloudError(
            f"'{name}' is recorded by the local cloud only: pass --endpoint or set "
            "BATCHOPS_ENDPOINT (start one with 'batchops local up')"
        )
    try:
        with urllib.request.urlopen(f"{url}/_batchops/{name}", timeout=10) as answer:
            return json.load(answer)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise CloudError(f"cannot read {url}/_batchops/{name}: {exc}") from None


def list_cmd(args: argparse.Namespace) -> int:
    messages = fetch_internal(args.endpoint, "notifications")
    if args.env:
        from batchops.config import load_settings

        account = load_settings(args.env).account_id
        messages = [m for m in messages if m.get("account") == account]
    if args.json:
        emit_json(messages)
        return 0
    rows = [
        {
            "time": m.get("time", "")[11:23],
            "account": m.get("account"),
            "to": ", ".join(m.get("recipients", [])),
            "subject": m.get("subject"),
            "first line": (m.get("message") or "").splitlines()[0][:80] if m.get("message") else "",
        }
        for m in messages
    ]
    print_table(
        rows,
        ["time", "account", "to", "subject", "first line"],
        title=f"{len(rows)} notification(s)",
    )
    return 0
