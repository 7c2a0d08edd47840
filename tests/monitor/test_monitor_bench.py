"""The data-quality benchmark's harness: child runs, time budget, install states, the table.

Fast and offline: no peer virtualenv, no generated data; the children are tiny Python
one-liners run by this interpreter.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


bench = _load("monitor_bench_under_test", REPO / "benchmarks" / "monitor_bench.py")
Result = bench.Result


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


# --------------------------------------------------------------------------- child runs
def test_a_child_report_becomes_a_measured_row() -> None:
    report = {"seconds": 1.5, "flagged": ["_c3"], "note": "n", "version": "tool 1.0"}
    run = bench.run_child(_python(f"print('noise'); print({json.dumps(report)!r})"), 30)
    assert run.returncode == 0 and not run.killed
    assert run.peak_rss_mib > 1  # ru_maxrss of the child, in MiB

    row = bench.result_from_child("duckdb", 1000, run, 30)

    assert (row.status, row.seconds, row.flagged, row.version) == ("ok", 1.5, ["_c3"], "tool 1.0")
    assert bench.format_flagged(row) == "yes"


def test_a_child_over_budget_is_killed_with_its_children() -> None:
    # the child starts a grandchild that would outlive it: the whole group goes
    code = (
        "import subprocess, sys, time;"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "time.sleep(60)"
    )
    start = time.monotonic()
    run = bench.run_child(_python(code), 0.5)
    assert run.killed and run.returncode is None
    assert time.monotonic() - start < 10

    row = bench.result_from_child("whylogs", 1000, run, 0.5)

    assert row.status == "killed" and row.lower_bound
    assert bench.format_seconds(row) == "> 0 (killed)"
    assert row.note == "> 0.5 s (killed)"


def test_a_failing_child_is_reported_with_its_error_not_raised() -> None:
    run = bench.run_child(_python("raise ValueError('boom')"), 30)

    row = bench.result_from_child("evidently", 1000, run, 30)

    assert row.status == "failed" and row.seconds is None
    assert row.note == "failed (exit code 1): ValueError: boom"
    assert bench.format_seconds(row) == "—"


# --------------------------------------------------------------------------- install states
UV_CONFLICT = """\
  \u00d7 No solution found when resolving dependencies:
  ╰─▶ Because ydata-profiling==4.18.4 depends on numpy<2.4 and you require numpy==2.4.6, we
      can conclude that your requirements are unsatisfiable.
"""


def test_install_failure_reason_is_uvs_own_words() -> None:
    reason = bench.install_failure_reason(UV_CONFLICT)
    assert reason.startswith("No solution found when resolving dependencies: Because ydata")
    assert "\u00d7" not in reason and "╰" not in reason
    offline = "error: Failed to fetch: `https://example.invalid/simple/whylogs/`\n  Caused by: x\n"
    assert bench.install_failure_reason(offline).startswith("error: Failed to fetch")
    assert bench.install_failure_reason("") == "no output from uv"


def test_peer_install_states(tmp_path: Path) -> None:
    assert bench.peer_python("whylogs", tmp_path)[1].startswith("not installed (make bench-peers")

    (tmp_path / "whylogs.failed").write_text(UV_CONFLICT)
    python, why = bench.peer_python("whylogs", tmp_path)
    assert python is None and why.startswith("not installable: No solution found")
    row = bench.measure_peer("whylogs", 1000, tmp_path, tmp_path, 30, venvs=tmp_path)
    assert (row.tool, row.status, row.note) == ("whylogs", "not installable", why)

    (tmp_path / "whylogs" / "bin").mkdir(parents=True)
    (tmp_path / "whylogs" / "bin" / "python").write_text("")
    (tmp_path / "whylogs" / ".installed").write_text("")
    assert bench.peer_python("whylogs", tmp_path) == (tmp_path / "whylogs/bin/python", "")


def test_run_peer_imports_only_the_standard_library() -> None:
    # -S: no site-packages at all; the usage error proves the module itself loaded
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(REPO / "benchmarks/peers/run_peer.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "usage: run_peer.py {duckdb,ydata-profiling,great-expectations" in done.stderr


def test_every_peer_has_pinned_requirements() -> None:
    for peer in bench.PEERS:
        lines = (REPO / "benchmarks/peers" / peer / "requirements.txt").read_text().splitlines()
        pins = [line.split("#")[0].strip() for line in lines if line and line[0].isalpha()]
        assert pins and all("==" in pin for pin in pins), peer


# --------------------------------------------------------------------------- sizes and budget
def test_peer_rows_and_peers_parse() -> None:
    assert bench.parse_peer_rows("whylogs=1_000_000, evidently=1000000") == {
        "whylogs": 1_000_000,
        "evidently": 1_000_000,
    }
    assert bench.parse_peer_rows("") == {}
    with pytest.raises(SystemExit, match="expected PEER=ROWS"):
        bench.parse_peer_rows("pandas=10")
    assert bench.parse_peers("all") == list(bench.PEERS)
    assert bench.parse_peers("duckdb,whylogs") == ["duckdb", "whylogs"]
    with pytest.raises(SystemExit, match="unknown nope"):
        bench.parse_peers("duckdb nope")


def _ok(tool: str, rows: int, seconds: float, **kw: object) -> object:
    return Result(tool, rows, "ok", seconds=seconds, peak_rss_mib=100.0, **kw)


def test_a_capped_peer_is_extrapolated_and_marked() -> None:
    caps = {"evidently": 1_000_000}
    earlier = [_ok("evidently", 1_000_000, 40.0, flagged=["_c3"])]
    assert bench.plan_peer("evidently", 1_000_000, caps, [], 600) is None
    assert bench.plan_peer("whylogs", 10_000_000, caps, [], 600) is None

    row = bench.plan_peer("evidently", 10_000_000, caps, earlier, 600)

    assert row.status == "extrapolated" and row.seconds == pytest.approx(400.0)
    assert "extrapolated linearly from 1,000,000 rows, not measured" in row.note
    assert bench.format_seconds(row) == "~400 (extrapolated)"
    assert bench.format_flagged(row) == "yes at 1,000,000 rows"
    # two sizes: the line through them (fixed start-up cost + per-row cost)
    two = [_ok("evidently", 100_000, 6.0), *earlier]
    assert bench.plan_peer("evidently", 10_000_000, caps, two, 600).seconds == pytest.approx(
        40.0 + 34.0 / 900_000 * 9_000_000
    )
    assert bench.plan_peer("evidently", 10_000_000, caps, [], 600).status == "not run"


def test_a_peer_killed_at_a_smaller_size_is_not_run_again() -> None:
    killed = Result("whylogs", 1_000_000, "killed", seconds=600.0, lower_bound=True)

    row = bench.plan_peer("whylogs", 10_000_000, {}, [killed], 600)

    assert row.status == "extrapolated" and row.lower_bound
    assert bench.format_seconds(row) == "> 600 (killed earlier)"
    assert "killed at 1,000,000 rows" in row.note


def test_short_tools_run_again_and_the_fastest_run_counts() -> None:
    times = iter([2.0, 1.5, 1.8])
    calls = []

    def run() -> object:
        calls.append(1)
        return _ok("batchops", 1000, next(times))

    best = bench.best_of(run, 3, short=30)

    assert (len(calls), best.seconds, best.runs) == (3, 1.5, 3)
    assert best.note.startswith("best of 3 runs")
    slow = bench.best_of(lambda: _ok("whylogs", 1000, 45.0), 3, short=30)
    assert (slow.runs, slow.note) == (1, "")
    failed = Result("evidently", 1000, "failed", note="failed")
    assert bench.best_of(lambda: failed, 3).runs == 1


# --------------------------------------------------------------------------- the table
def _results() -> dict[int, list[object]]:
    small = [
        _ok("batchops", 1_000_000, 1.0, flagged=["_c3"]),
        _ok("polars floor", 1_000_000, 0.5),
        _ok("whylogs", 1_000_000, 20.0, flagged=["_c2", "_c3"], version="whylogs 1.6.4"),
        _ok("evidently", 1_000_000, 9.0, flagged=["_c3"]),
        Result("Great Expectations", 1_000_000, "not installable", note="not installable: x"),
    ]
    large = [
        _ok("batchops", 10_000_000, 9.0, flagged=["_c3"]),
        _ok("polars floor", 10_000_000, 3.0),
        Result(
            "whylogs",
            10_000_000,
            "killed",
            seconds=600.0,
            lower_bound=True,
            peak_rss_mib=5000.0,
            note="> 600 s",
        ),
        bench.plan_peer("evidently", 10_000_000, {"evidently": 1}, [small[3]], 600),
    ]
    large[0].peak_rss_mib = 3000.0
    return {1_000_000: small, 10_000_000: large}


def test_the_table_shows_ratios_marks_and_install_failures() -> None:
    text = bench.render(
        _results(),
        timeout=600,
        caps={"evidently": 1_000_000},
        load_before="1.0, 1.0, 1.0",
        load_after="2.0, 2.0, 2.0",
        versions="batchops 0.1.0",
    )

    assert "| batchops | 1.00 | 2.00 | 1.00 | 100 | yes |" in text
    assert "| whylogs | 20.00 | 40.00 | 20.00 | 100 | yes (also _c2) |" in text
    assert "| Great Expectations | — | — | — | — | — | not installable: x |" in text
    assert "| whylogs | > 600 (killed) | > 200 | > 66.67 | 5000 (at kill) | — | > 600 s |" in text
    assert "| evidently | ~90.00 (extrapolated) | ~30.00 | ~10.00 |" in text
    assert "whylogs: whylogs 1.6.4" in text
    assert "the polars floor took 3.00 s at 10,000,000 rows, 3.8x that figure" in text


def test_the_goals_say_met_or_missed_and_by_how_much() -> None:
    lines = "\n".join(bench.goal_lines(_results()))

    assert "1,000,000 rows: MET (2.00x ≤ 2.5x, 20 % headroom)" in lines
    assert "10,000,000 rows: MISSED (3.00x > 2.5x, 20 % over)" in lines
    assert "faster than whylogs — 1,000,000 rows: MET (20.00x ≥ 10x)" in lines
    assert "10,000,000 rows: MET (whylogs killed: > 66.7x)" in lines
    assert "faster than evidently — 1,000,000 rows: MISSED (9.00x < 10x, 10 % short)" in lines
    assert "MET (10.00x ≥ 10x) — evidently extrapolated from 1,000,000 rows" in lines
    assert "2 GiB at 10,000,000 rows — 10,000,000 rows: MISSED (3000 MiB > 2048 MiB" in lines
