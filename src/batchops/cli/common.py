"""Arguments and output shared by the subcommand modules.

Listing commands accept ``--json`` (machine-readable, stable keys); otherwise they print
a table, through rich on a terminal and as plain aligned text in CI or a pipe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from batchops.aws import Clients
    from batchops.config import Settings


def add_env(
    parser: argparse.ArgumentParser, *, required: bool = True, default: str | None = None
) -> None:
    from batchops.config import ENVIRONMENTS

    parser.add_argument(
        "--env",
        required=required and default is None,
        default=default,
        metavar="ENV",
        help=f"environment (account): {', '.join(ENVIRONMENTS)}",
    )


def add_endpoint(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        default=None,
        help="local cloud endpoint (default: $BATCHOPS_ENDPOINT; unset = real AWS)",
    )


def add_dataset(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dataset",
        type=str,
        default=None,
        metavar="SPEC",
        help="dataset spec YAML (default: $BATCHOPS_DATASET_SPEC, else "
        "examples/datasets/abalone/dataset.yaml)",
    )


def use_dataset(args: argparse.Namespace) -> None:
    """Make ``--dataset SPEC`` the spec of this process and its children (validated now)."""
    from batchops.data.spec import SPEC_ENV, current_spec, load_spec

    path = getattr(args, "dataset", None)
    if path:
        load_spec(path)  # a bad spec is one line before anything runs
        os.environ[SPEC_ENV] = str(os.path.abspath(path))
    else:
        current_spec()


def add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON")


def settings_from(args: argparse.Namespace, environment: str | None = None) -> Settings:
    from batchops.config import load_settings

    return load_settings(environment or args.env)


def clients_from(args: argparse.Namespace, settings: Settings) -> Clients:
    from batchops.aws import clients_for

    return clients_for(settings, getattr(args, "endpoint", None))


def interactive() -> bool:
    """True on a terminal outside CI: progress bars and colours are welcome."""
    return sys.stdout.isatty() and not os.environ.get("CI")


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=str)
    sys.stdout.write("\n")


def print_table(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    if interactive():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
        Console().print(table)
        return
    if title:
        print(title)
    cells = [[("" if r.get(c) is None else str(r.get(c))) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(line[i]) for line in cells]) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in cells:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())


@contextmanager
def progress(message: str) -> Iterator[Callable[[str], None]]:
    """A spinner with a status line on a terminal; silent in CI and pipes."""
    if not interactive():
        yield lambda _text: None
        return
    from rich.console import Console

    with Console(stderr=True).status(message) as status:
        yield lambda text: status.update(f"{message} {text}")
