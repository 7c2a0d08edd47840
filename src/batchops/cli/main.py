"""``batchops`` command line: ``main(argv) -> int`` like pre-commit.

One module per subcommand group. Each module exposes ``register(subparsers)`` and binds
``func`` on its parsers; imports of heavy libraries (boto3, the SageMaker SDK, polars)
happen inside the handlers so ``batchops --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from batchops import __version__
from batchops.errors import BatchopsError

#: Subcommand modules, in the order ``--help`` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "config_cmd",
    "data_cmd",
    "local_cmd",
    "pipelines_cmd",
    "models_cmd",
    "deploy_cmd",
    "demo_cmd",
    "monitor_cmd",
    "notifications_cmd",
    "gitlab_cmd",
    "doctor_cmd",
)

DESCRIPTION = """\
MLOps for SageMaker batch inference across data-science, staging and production accounts.

Every command talks to AWS through the normal credential chain, or to the local cloud
when --endpoint or BATCHOPS_ENDPOINT is set (start one with 'batchops local up').
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batchops",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"batchops {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"batchops.cli.{name}")
        module.register(subparsers)
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING - 10 * verbosity
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "sagemaker"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, level))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if args.command:
            parser.parse_args([args.command, "--help"])
        parser.print_help()
        return 2
    _configure_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except BatchopsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
