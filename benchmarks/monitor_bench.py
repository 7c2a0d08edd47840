"""Data-quality baseline + check: our engine side by side with what users would pick instead.

Run with ``make bench-monitor`` (or ``python benchmarks/monitor_bench.py --rows 1000000``).
For each size it generates Abalone-layout inference data (8 columns, headerless CSV,
seeded) plus a batch of the same size with ``height*1.6`` drift, then times, each tool in
its own process so peak RSS is that tool's alone:

* ``batchops``: ``suggest_baseline`` on the data + ``check_dataset`` of the batch (two
  full passes, statistics + KLL sketches + categorical counts + checks);
* ``polars floor``: one hand-written polars aggregation per file (count, nulls, mean,
  std, min, max, sum per numeric column + value counts of the string column) — the least
  work any profile must do, the issue's reference floor;
* ``pandas describe``: ``read_csv`` + ``describe()`` + ``value_counts()`` for both files,
  what a data scientist writes by hand.

whylogs, evidently, ydata-profiling and Great Expectations are not run: each pins
dependencies that conflict with the project's, so they need separate virtualenvs with
network installs, too heavy for the shared 2-core machine this runs on; the table lists
the issue's reference figures for them instead (clearly marked as not measured here).
Results go to ``benchmarks/results/data_quality.md`` with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work" / "monitor"
RESULTS = ROOT / "benchmarks" / "results" / "data_quality.md"
LOAD_BEFORE = ", ".join(f"{x:.1f}" for x in os.getloadavg())
TOOLS = ("batchops", "polars floor", "pandas describe")
#: The issue's figures for 10M rows on a comparable 2-core machine (seconds), not re-measured.
REFERENCE_10M = {
    "duckdb": 2.87,
    "pandas": 9.0,
    "ydata-profiling": 19.4,
    "Great Expectations": 48.7,
    "whylogs": 145.0,
    "evidently": 538.0,
}


# --------------------------------------------------------------------------- tools
def run_batchops(data: Path, batch: Path, out: Path) -> str:
    from batchops.monitor.dataquality import check_dataset, suggest_baseline

    suggest_baseline(data, out / "baseline")
    result = check_dataset(
        batch, out / "check", out / "baseline/constraints.json", out / "baseline/statistics.json"
    )
    return f"{len(result.violations)} violation(s): " + ", ".join(
        f"{v.constraint_check_type}({v.feature_name})" for v in result.violations
    )


def run_polars_floor(data: Path, batch: Path, out: Path) -> str:
    import polars as pl

    for path in (data, batch):
        frame = pl.scan_csv(path, has_header=False)
        names = frame.collect_schema().names()
        numeric, text = names[1:], names[0]
        aggregations = [pl.len().alias("rows")]
        for c in numeric:
            col = pl.col(c)
            aggregations += [
                col.null_count().alias(f"{c}_null"),
                col.mean().alias(f"{c}_mean"),
                col.std(ddof=0).alias(f"{c}_std"),
                col.min().alias(f"{c}_min"),
                col.max().alias(f"{c}_max"),
                col.sum().alias(f"{c}_sum"),
            ]
        # one select = one pass over the file, categories included
        aggregations.append(pl.col(text).value_counts().implode().alias("categories"))
        stats = frame.select(aggregations).collect()
        (out / f"{path.parent.name}.json").write_text(json.dumps(stats.row(0, named=True)))
    return "no checks (profile only)"


def run_pandas(data: Path, batch: Path, out: Path) -> str:
    import pandas as pd

    for path in (data, batch):
        frame = pd.read_csv(path, header=None)
        described = frame.describe()
        counts = frame[0].value_counts()
        (out / f"{path.parent.name}.json").write_text(
            json.dumps({"describe": described.to_json(), "categories": counts.to_dict()})
        )
    return "no checks (profile only)"


RUNNERS = {
    "batchops": run_batchops,
    "polars floor": run_polars_floor,
    "pandas describe": run_pandas,
}


# --------------------------------------------------------------------------- harness
def prepare(rows: int) -> tuple[Path, Path]:
    """The data and drifted batch of ``rows`` rows, generated once in a child process.

    A child, because a forked child's peak RSS counts the parent's memory at fork time:
    the measuring parent must never import polars or numpy itself.
    """
    folder = WORK / f"rows-{rows}"
    data, batch = folder / "data" / "inference-data.csv", folder / "batch" / "inference-data.csv"
    if not (data.is_file() and batch.is_file()):
        subprocess.run([sys.executable, __file__, "--prepare", str(rows)], check=True)
    return data, batch


def generate_files(rows: int) -> None:
    """Generate (cached under benchmarks/.work) the data and the drifted batch."""
    from batchops.data.generate import generate
    from batchops.data.schema import Layout

    folder = WORK / f"rows-{rows}"
    data, batch = folder / "data" / "inference-data.csv", folder / "batch" / "inference-data.csv"
    if not data.is_file():
        generate(data.parent, rows=1, inference_rows=rows, seed=1, layouts=(Layout.INFERENCE,))
    if not batch.is_file():
        generate(
            batch.parent,
            rows=1,
            inference_rows=rows,
            seed=2,
            drift="height*1.6",
            layouts=(Layout.INFERENCE,),
        )


def measure(tool: str, data: Path, batch: Path) -> dict[str, object]:
    """Run one tool in a child process; wall time from the child, peak RSS from wait4."""
    out = WORK / "out" / tool.replace(" ", "-")
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--child", tool, str(data), str(batch), str(out)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{tool} failed with exit code {child.returncode}")
    report = json.loads(output.strip().splitlines()[-1])
    return {"tool": tool, **report, "peak_rss_mib": usage.ru_maxrss / 1024}


def child(tool: str, data: Path, batch: Path, out: Path) -> None:
    start = time.perf_counter()
    note = RUNNERS[tool](data, batch, out)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "note": note}))


def versions() -> str:
    from importlib.metadata import version

    names = ("batchops", "polars", "numpy", "pandas")
    return ", ".join(f"{name} {version(name)}" for name in names)


def render(results: dict[int, list[dict[str, object]]]) -> str:
    lines = [
        "# Data quality: baseline + check",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/monitor_bench.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}; {versions()}.",
        "",
        f"Load average before the run: {LOAD_BEFORE} (the machine is shared; "
        "timings of a loaded machine are noisy, the ratios less so).",
        "",
        "Each tool reads the 8-column Abalone-layout data and a drifted batch of the same size "
        "(headerless CSV), in its own process. Ratio = tool time / polars floor time.",
        "",
    ]
    for rows, rows_results in results.items():
        floor = next(float(r["seconds"]) for r in rows_results if r["tool"] == "polars floor")  # type: ignore[arg-type]
        lines += [
            f"## {rows:,} rows",
            "",
            "| tool | seconds | x polars floor | peak RSS (MiB) | result |",
            "|---|---:|---:|---:|---|",
        ]
        for r in rows_results:
            seconds = float(r["seconds"])  # type: ignore[arg-type]
            lines.append(
                f"| {r['tool']} | {seconds:.2f} | {seconds / floor:.2f} | "
                f"{float(r['peak_rss_mib']):.0f} | {r['note']} |"  # type: ignore[arg-type]
            )
        lines.append("")
    goal = "Goal (issue 4): batchops ≤ 2.5x the polars floor and peak RSS ≤ 2 GiB at 10M rows."
    lines += [
        goal,
        "",
        "Not measured here (separate virtualenvs would be needed; the issue's figures for 10M "
        "rows on a comparable 2-core machine, for orientation only): "
        + ", ".join(f"{k} {v:g} s" for k, v in REFERENCE_10M.items())
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000", help="comma-separated sizes")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        generate_files(args.prepare)
        return
    if args.child:
        tool, *paths = args.child
        child(tool, *(Path(p) for p in paths))
        return
    results: dict[int, list[dict[str, object]]] = {}
    for rows in (int(r) for r in args.rows.split(",")):
        data, batch = prepare(rows)
        results[rows] = [measure(tool, data, batch) for tool in TOOLS]
        for r in results[rows]:
            print(
                f"{rows:>10,} {r['tool']:<16} {float(r['seconds']):7.2f} s "  # type: ignore[arg-type]
                f"{float(r['peak_rss_mib']):7.0f} MiB  {r['note']}"
            )  # type: ignore[arg-type]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(render(results))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
