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

#: Exit codes besides the error classes' own (:mod:`batchops.errors`).
USAGE = 2
INTERNAL = 70
EXIT_CODES = """\
exit codes (the same in every command):
  0   success
  1   another failure (a check that found problems says which)
  2   usage or settings: a command-line argument, an option or a setting is invalid
  3   data: a data file does not follow the layout
  4   AWS or the local cloud: unreachable, or it refused a request
  5   not found: a named pipeline, execution, version or dead letter does not exist
  6   governance refusal: a registry or promotion rule forbids the action
  7   pipeline: a definition cannot be built or stored, or a run failed (--wait)
  8   quality violations found (monitor check --fail-on-violation, monitor model-quality)
  70  internal error (a bug; -vv shows the traceback)
  130 interrupted (Ctrl-C)
"""

SHORT_EXIT_CODES = (
    "exit codes: 0 ok, 1 other failure, 2 usage or settings, 3 data, 4 AWS/local cloud, "
    "5 not found, 6 governance refusal, 7 pipeline, 8 quality violations, 70 internal error "
    "(see batchops --help)"
)

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
    "events_cmd",
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
        epilog=EXIT_CODES,
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
    _document_exit_codes(parser)
    return parser


def _document_exit_codes(parser: argparse.ArgumentParser) -> None:
    """Every command's --help names the exit codes (the full table is in batchops --help)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _document_exit_codes(sub)
            return
    if parser.epilog and "exit codes" in parser.epilog:
        return
    line = SHORT_EXIT_CODES
    if parser.epilog:
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        parser.epilog = f"{parser.epilog.rstrip()}\n\n{line}"
    else:
        parser.epilog = line


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
        return USAGE
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
    except Exception as exc:  # the last line of defence: one line, never a traceback
        line, code = describe_unexpected(exc)
        print(f"error: {line}", file=sys.stderr)
        if args.verbose >= 2:
            import traceback

            traceback.print_exc()
        return code


def describe_unexpected(exc: BaseException) -> tuple[str, int]:
    """One line and an exit code for an error no command turned into a BatchopsError."""
    from batchops.errors import CloudError, ConfigError

    if isinstance(exc, OSError) and getattr(exc, "filename", None):
        return f"{exc.filename}: {exc.strerror or exc}", ConfigError.exit_code
    module = type(exc).__module__
    if module.startswith(("botocore", "boto3", "urllib3", "requests")):
        from batchops.aws import error_message

        return f"AWS request failed: {error_message(exc)}", CloudError.exit_code  # type: ignore[arg-type]
    text = str(exc).strip().splitlines()
    return (
        f"internal error: {type(exc).__name__}: {text[0] if text else ''} "
        "(a bug: rerun with -vv for the traceback and report it)",
        INTERNAL,
    )


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
