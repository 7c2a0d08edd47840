"""The table of bad input and faults stays true: every test it names exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from batchops.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]
TABLE = REPO / "benchmarks" / "results" / "bad-input-and-faults.md"


def test_every_case_of_the_table_names_a_test_that_exists() -> None:
    named = set(re.findall(r"`(test_[a-z0-9_]+)`", TABLE.read_text(encoding="utf-8")))
    assert len(named) >= 30
    sources = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("tests", "model-build/tests", "model-deploy/tests")
        for p in (REPO / folder).rglob("test_*.py")
    )
    defined = set(re.findall(r"^def (test_[a-z0-9_]+)\(", sources, flags=re.MULTILINE))
    assert sorted(named - defined) == []


def test_an_unexpected_error_is_one_line_and_vv_shows_the_traceback(capsys, monkeypatch) -> None:
    def broken(_args: object) -> int:
        raise KeyError("surprise")

    monkeypatch.setattr(cli_main, "build_parser", _parser_with(broken))
    assert cli_main.main(["boom"]) == cli_main.INTERNAL
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: internal error: KeyError: 'surprise' (a bug: rerun with -vv for the traceback "
        "and report it)"
    )
    assert cli_main.main(["-vv", "boom"]) == cli_main.INTERNAL
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def _parser_with(func):  # type: ignore[no-untyped-def]
    import argparse

    def build() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog="batchops")
        parser.add_argument("-v", "--verbose", action="count", default=0)
        sub = parser.add_subparsers(dest="command")
        sub.add_parser("boom").set_defaults(func=func)
        return parser

    return build


pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
