"""Arguments and output shared by the subcommand modules.

Listing commands accept ``--json`` (machine-readable, stable keys); otherwise they print
a table, through rich on a terminal and as plain aligned text in CI or a pipe.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
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
    """``--endpoint`` (the local cloud) and, as AWS CLI users expect, ``--profile``/``--region``."""
    parser.add_argument(
        "--endpoint",
        default=None,
        metavar="URL",
        help="local cloud endpoint (default: $BATCHOPS_ENDPOINT, else $AWS_ENDPOINT_URL; "
        "unset = real AWS)",
    )
    parser.add_argument(
        "--profile",
        default=None,
        help="AWS named profile for the credentials (default: $AWS_PROFILE or the default "
        "credential chain); ignored on the local cloud",
    )
    parser.add_argument(
        "--region",
        default=None,
        help="AWS region (default: the environment's 'region' setting)",
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

    region = getattr(args, "region", None)
    return load_settings(environment or args.env, overrides={"region": region} if region else None)


def clients_from(args: argparse.Namespace, settings: Settings) -> Clients:
    from batchops.aws import clients_for

    return clients_for(
        settings, getattr(args, "endpoint", None), profile=getattr(args, "profile", None)
    )


def output_folder(path: Path, option: str = "--out") -> Path:
    """``path`` created if missing and writable, or one line naming the option and why not."""
    from batchops.errors import ConfigError

    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        if isinstance(exc, (NotADirectoryError, FileExistsError)):
            why = "a file is in the way (expected a folder)"
        raise ConfigError(f"{option} {path}: cannot write there: {why}") from None
    return path


def read_json_file(path: Path) -> Any:
    """A JSON document, or one line naming the file, line and column of what is wrong."""
    from batchops.errors import DataError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}:{exc.lineno}:{exc.colno}: not valid JSON ({exc.msg}); was it cut short? "
            "Write it again (e.g. `batchops report --endpoint URL`)"
        ) from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None


def interactive() -> bool:
    """True on a terminal outside CI: progress bars and colours are welcome."""
    return sys.stdout.isatty() and not os.environ.get("CI")


def emit_json(data: Any) -> None:
    from batchops.fs import json_default

    json.dump(data, sys.stdout, indent=2, sort_keys=False, default=json_default)
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


class Progress:
    """What a long command reports while it works: a status line and finished items."""

    def __init__(self, status: Any = None, *, quiet: bool = False) -> None:
        self._status = status
        self._quiet = quiet

    def update(self, text: str) -> None:
        """The current state (a spinner's text on a terminal; nothing in CI)."""
        if self._status is not None:
            self._status.update(text)

    def line(self, text: str) -> None:
        """A finished item: printed above the spinner on a terminal, a plain line in CI."""
        if not self._quiet:
            self.warn(text)

    def warn(self, text: str) -> None:
        """Something the user must read (a warning): on stderr even with ``--json``."""
        if self._status is not None:
            self._status.console.print(text, highlight=False, markup=False)
        else:
            print(text, file=sys.stderr, flush=True)


@contextmanager
def progress(message: str, *, quiet: bool = False) -> Iterator[Progress]:
    """A rich spinner with ``message`` on a terminal; in CI or a pipe one plain line.

    ``quiet`` (``--json``): nothing at all, stdout stays a JSON document.
    """
    if quiet:
        yield Progress(quiet=True)
        return
    if not interactive():
        print(f"{message}...", file=sys.stderr, flush=True)
        yield Progress()
        return
    from rich.console import Console

    with Console(stderr=True).status(message) as status:
        yield Progress(status)
