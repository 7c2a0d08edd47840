"""CLI conventions users script against: help for every option, documented exit codes,
--json on every command that reports, ISO-8601 timestamps in JSON, AWS CLI options."""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from batchops.cli.common import emit_json
from batchops.cli.main import EXIT_CODES, build_parser, main
from batchops.errors import (
    CloudError,
    ConfigError,
    DataError,
    GovernanceError,
    NotFoundError,
    PipelineError,
)


def leaf_parsers(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subactions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subactions:
        yield path, parser
        return
    for action in subactions:
        for name, sub in action.choices.items():
            yield from leaf_parsers(sub, (*path, name))


LEAVES = list(leaf_parsers(build_parser()))
#: commands that report something (their output is what a script reads)
REPORTING = {
    ("config", "show"),
    ("data", "generate"),
    ("data", "validate"),
    ("data", "upload"),
    ("local", "up"),
    ("local", "credentials"),
    ("pipelines", "list"),
    ("pipelines", "build"),
    ("pipelines", "upsert"),
    ("pipelines", "golden-check"),
    ("pipelines", "delete"),
    ("pipelines", "start"),
    ("pipelines", "status"),
    ("pipelines", "steps"),
    ("models", "list"),
    ("models", "show"),
    ("models", "approve"),
    ("models", "reject"),
    ("deploy",),
    ("deployments", "list"),
    ("demo",),
    ("report",),
    ("notifications", "list"),
    ("events", "dead-letters"),
    ("events", "redrive"),
    ("gitlab", "triggers"),
    ("gitlab", "configure"),
}


@pytest.mark.parametrize("path", [p for p, _ in LEAVES], ids=" ".join)
def test_every_option_has_help(path: tuple[str, ...]) -> None:
    parser = dict(LEAVES)[path]
    missing = [
        "/".join(action.option_strings) or action.dest
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not (action.help or "").strip()
    ]
    assert missing == [], f"batchops {' '.join(path)}: options without help: {missing}"


@pytest.mark.parametrize("path", sorted(REPORTING), ids=" ".join)
def test_every_reporting_command_has_json(path: tuple[str, ...]) -> None:
    parser = dict(LEAVES)[path]
    assert any("--json" in a.option_strings for a in parser._actions), path


#: their --endpoint names a running local cloud, never AWS
LOCAL_ONLY = {("demo",), ("report",)}


@pytest.mark.parametrize(
    "path",
    [
        p
        for p, parser in LEAVES
        if p not in LOCAL_ONLY and any("--endpoint" in a.option_strings for a in parser._actions)
    ],
    ids=" ".join,
)
def test_commands_that_talk_to_aws_take_profile_and_region(path: tuple[str, ...]) -> None:
    options = {o for a in dict(LEAVES)[path]._actions for o in a.option_strings}
    assert {"--profile", "--region", "--endpoint"} <= options


def test_exit_codes_are_documented_in_help_and_match_the_error_classes() -> None:
    for error in (
        ConfigError,
        DataError,
        CloudError,
        NotFoundError,
        GovernanceError,
        PipelineError,
    ):
        assert f"\n  {error.exit_code}   " in EXIT_CODES, error.__name__
    assert EXIT_CODES in build_parser().format_help()
    for path, parser in LEAVES:
        assert "exit codes" in parser.format_help(), path


def test_json_timestamps_are_iso_8601(capsys) -> None:
    emit_json(
        {
            "at": datetime(2026, 12, 1, 10, 30, tzinfo=UTC),
            "nested": [{"t": datetime(2026, 1, 2, tzinfo=UTC)}],
        }
    )
    data = json.loads(capsys.readouterr().out)
    assert data["at"] == "2026-12-01T10:30:00+00:00"
    assert data["nested"][0]["t"] == "2026-01-02T00:00:00+00:00"


def test_aws_endpoint_url_selects_the_endpoint_like_the_aws_cli(monkeypatch) -> None:
    from batchops.aws import endpoint_from

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/")
    assert endpoint_from(None) == "http://127.0.0.1:4566"
    monkeypatch.setenv("BATCHOPS_ENDPOINT", "http://127.0.0.1:5000")
    assert endpoint_from(None) == "http://127.0.0.1:5000"
    assert endpoint_from("http://x:1") == "http://x:1"


def test_an_unknown_profile_is_one_line(capsys, monkeypatch) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    code = main(["models", "list", "--profile", "no-such-profile"])
    err = capsys.readouterr().err.strip()
    assert code == CloudError.exit_code
    assert (
        err
        == "error: AWS profile 'no-such-profile' not found in ~/.aws/config or ~/.aws/credentials"
    )


def test_progress_is_a_spinner_on_a_terminal_one_plain_line_in_ci_and_nothing_with_json(
    capsys, monkeypatch
) -> None:
    from batchops.cli import common

    monkeypatch.setattr(common, "interactive", lambda: False)  # CI, a pipe
    with common.progress("building the definitions") as shown:
        shown.update("step 2 of 4")  # a spinner's text: not printed in CI
        shown.line("training: built")
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["building the definitions...", "training: built"]

    with common.progress("waiting", quiet=True) as shown:  # --json: stdout stays JSON
        shown.line("done")
    assert capsys.readouterr() == ("", "")
    with common.progress("uploading", quiet=True) as shown:  # a warning is never silenced
        shown.warn("warning: no pipeline yet")
    assert capsys.readouterr() == ("", "warning: no pipeline yet\n")

    entered: list[str] = []

    class Status:
        console = type("C", (), {"print": lambda self, text, **_: entered.append(text)})()

        def __init__(self, message: str) -> None:
            entered.append(f"spinner: {message}")

        def __enter__(self):  # type: ignore[no-untyped-def]
            return self

        def __exit__(self, *exc: object) -> None:
            entered.append("spinner stopped")

        def update(self, text: str) -> None:
            entered.append(f"spinner: {text}")

    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr("rich.console.Console.status", lambda self, message: Status(message))
    with common.progress("uploading") as shown:
        shown.update("2 of 3 files")
        shown.line("inference-data.csv")
    assert entered == [
        "spinner: uploading",
        "spinner: 2 of 3 files",
        "inference-data.csv",
        "spinner stopped",
    ]
    assert capsys.readouterr().out == ""
