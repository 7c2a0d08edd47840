"""``batchops events``: dead letters — events that failed every delivery — and their redrive."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from batchops.cli.common import add_endpoint, add_json, emit_json, print_table

EPILOG = """\
Dead letters are read from the SQS queues the accounts declare (each batchops function's
DeadLetterConfig and each batchops rule target's DeadLetterConfig), on AWS and on the local
cloud alike. An event lands there when Lambda's asynchronous retries (2 by default) or
EventBridge's RetryPolicy (what Terraform declares) are exhausted, or at once when a retry
cannot help (a missing target). The queues' CloudWatch alarms notify the team's SNS topic.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "events", help="dead letters: events that failed every delivery attempt, and redrive"
    )
    commands = parser.add_subparsers(dest="events_command", metavar="ACTION")

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--env",
            action="append",
            default=None,
            metavar="ENV",
            help="environment (account) to look in; repeatable (default: all three)",
        )
        add_endpoint(sub)
        add_json(sub)

    listing = commands.add_parser(
        "dead-letters",
        help="list the events waiting in the dead-letter queues (reads, deletes nothing)",
        description="List the events waiting in the dead-letter queues.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common(listing)
    listing.set_defaults(func=list_cmd)
    again = commands.add_parser(
        "redrive",
        help="deliver dead letters again (one ID, or all) and remove each one delivered",
        description="Deliver dead letters to where they were going: the function (Invoke) "
        "or the rule's target. A message is deleted only once delivered; the handlers are "
        "idempotent, so a redrive never deploys or notifies twice. Exit code 4 if any "
        "delivery failed again.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    again.add_argument(
        "id", nargs="?", default=None, help="the dead letter's id (default: every one)"
    )
    common(again)
    again.set_defaults(func=redrive_cmd)


def _environments(args: argparse.Namespace) -> list[str]:
    from batchops.config import ENVIRONMENTS
    from batchops.errors import ConfigError

    chosen = args.env or list(ENVIRONMENTS)
    for env in chosen:
        if env not in ENVIRONMENTS:
            raise ConfigError(f"--env {env!r}: expected one of {', '.join(ENVIRONMENTS)}")
    return chosen


def _letters(args: argparse.Namespace) -> list[tuple[Any, Any]]:
    from batchops.cli.common import clients_from, settings_from
    from batchops.events.dead_letters import list_dead_letters

    found: list[tuple[Any, Any]] = []
    for env in _environments(args):
        settings = settings_from(args, env)
        clients = clients_from(args, settings)
        found.extend((clients, letter) for letter in list_dead_letters(clients, env))
    return found


def _dropped(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Local cloud only: dead letters with no queue (AWS would have dropped them)."""
    from batchops.aws import endpoint_from
    from batchops.cli.notifications_cmd import fetch_internal

    if not endpoint_from(getattr(args, "endpoint", None)):
        return []
    return [r for r in fetch_internal(args.endpoint, "dead-letters") if r["status"] == "dropped"]


def list_cmd(args: argparse.Namespace) -> int:
    letters = _letters(args)
    dropped = _dropped(args)
    if args.json:
        emit_json(
            {
                "dead_letters": [letter.to_json() for _, letter in letters],
                "dropped": [
                    {k: v for k, v in r.items() if k != "event"}
                    | {"event_id": r["event"].get("id")}
                    for r in dropped
                ],
            }
        )
        return 0
    rows = [
        {
            "id": letter.id,
            "env": letter.environment,
            "sent": letter.sent_at,
            "from": f"{letter.source} {letter.source_name}",
            "event": letter.detail_type,
            "error": letter.error[:70],
        }
        for _, letter in letters
    ]
    print_table(
        rows, ["id", "env", "sent", "from", "event", "error"], title=f"{len(rows)} dead letter(s)"
    )
    if dropped:
        print(
            f"{len(dropped)} more failed with no dead-letter queue configured (AWS drops those; "
            "the local cloud kept them: /_batchops/dead-letters)",
            file=sys.stderr,
        )
    return 0


def redrive_cmd(args: argparse.Namespace) -> int:
    from batchops.errors import BatchopsError, NotFoundError
    from batchops.events.dead_letters import redrive

    letters = _letters(args)
    if args.id is not None:
        letters = [(c, letter) for c, letter in letters if letter.id == args.id]
        if not letters:
            raise NotFoundError(
                f"dead letter {args.id!r} not found (see `batchops events dead-letters`)"
            )
    results = []
    for clients, letter in letters:
        try:
            outcome, ok = redrive(clients, letter), True
        except BatchopsError as exc:
            outcome, ok = str(exc), False
        results.append({"id": letter.id, "env": letter.environment, "ok": ok, "outcome": outcome})
    if args.json:
        emit_json(results)
    else:
        for item in results:
            print(f"{'delivered' if item['ok'] else 'FAILED':9} {item['id']}: {item['outcome']}")
        if not results:
            print("no dead letters to redrive")
    return 0 if all(r["ok"] for r in results) else 4
