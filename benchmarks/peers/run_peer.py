"""Run one peer data-quality tool on the benchmark's data and drifted batch (one child process).

``python run_peer.py TOOL DATA BATCH OUT`` — run by ``benchmarks/monitor_bench.py`` with the
peer's own virtualenv (``.venv-peers/<tool>/bin/python``), so this script imports only the
standard library at the top and the peer's packages inside its runner: never batchops, polars
or anything else the peer's virtualenv does not have.

Each runner does the job ``suggest_baseline`` + ``check_dataset`` do: profile the baseline data,
profile the batch and compare the two, writing its results under OUT. Its last stdout line is
one JSON object: ``seconds`` (imports included, as for the other tools), ``flagged`` (the
columns the tool reports as drifted or failing, ``null`` when the tool has no such verdict),
``note`` and ``version``.

The files are the Abalone training layout: 9 headerless columns, ``_c0`` (sex) a string,
``_c1``..``_c8`` numbers (``_c8``: rings, integers); the drifted batch has ``_c3`` (height)
times 1.6.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

COLUMNS = [f"_c{i}" for i in range(9)]
CATEGORICAL = "_c0"
NUMERIC = COLUMNS[1:]
#: L-infinity distance between the CDFs (numbers) or frequencies (categories) above which a
#: column counts as drifted, batchops's default ``comparison_threshold`` (hand-written checks).
DRIFT_THRESHOLD = 0.1
#: Quantiles of the baseline at which the duckdb check compares the two CDFs.
PROBES = [round(0.05 * i, 2) for i in range(1, 20)]

# No peer phones home from a benchmark (and the machine may have no network at all).
os.environ.setdefault("WHYLOGS_NO_ANALYTICS", "True")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("YDATA_PROFILING_NO_ANALYTICS", "True")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("TQDM_DISABLE", "1")

Outcome = dict[str, object]


def _version(*names: str) -> str:
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in names)


def _read_pandas(path: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.read_csv(path, header=None, names=COLUMNS)


# --------------------------------------------------------------------------- duckdb
def run_duckdb(data: Path, batch: Path, out: Path) -> Outcome:
    """One aggregation query per file (count, nulls, mean, std, min, max, sum, 19 quantiles
    per number, category counts); the batch's query also measures its CDF at the baseline's
    quantiles, so the drift check is the L-infinity distance of batchops, by hand, in SQL."""
    import duckdb

    connection = duckdb.connect()

    def source(path: Path) -> str:
        types = ", ".join(
            f"'{c}': '{'VARCHAR' if c == CATEGORICAL else 'DOUBLE'}'" for c in COLUMNS
        )
        return f"read_csv('{path}', header = false, columns = {{{types}}})"

    def aggregates() -> list[str]:
        parts = ["count(*) AS rows", f"histogram({CATEGORICAL}) AS categories"]
        for c in NUMERIC:
            parts += [
                f"count(*) - count({c}) AS {c}_nulls",
                f"avg({c}) AS {c}_mean",
                f"stddev_pop({c}) AS {c}_std",
                f"min({c}) AS {c}_min",
                f"max({c}) AS {c}_max",
                f"sum({c}) AS {c}_sum",
                f"approx_quantile({c}, {PROBES}) AS {c}_quantiles",
            ]
        return parts

    def profile(path: Path, extra: list[str]) -> dict[str, object]:
        cursor = connection.execute(f"SELECT {', '.join(aggregates() + extra)} FROM {source(path)}")
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))

    baseline = profile(data, [])
    below = [
        f"avg(CASE WHEN {c} <= {q} THEN 1.0 ELSE 0.0 END) AS {c}_below_{i}"
        for c in NUMERIC
        for i, q in enumerate(baseline[f"{c}_quantiles"])  # type: ignore[arg-type]
    ]
    current = profile(batch, below)
    flagged = []
    for c in NUMERIC:
        distance = max(abs(current[f"{c}_below_{i}"] - p) for i, p in enumerate(PROBES))  # type: ignore[operator]
        if distance > DRIFT_THRESHOLD:
            flagged.append(c)
    expected = _frequencies(baseline["categories"])  # type: ignore[arg-type]
    observed = _frequencies(current["categories"])  # type: ignore[arg-type]
    keys = set(expected) | set(observed)
    if max(abs(expected.get(k, 0.0) - observed.get(k, 0.0)) for k in keys) > DRIFT_THRESHOLD:
        flagged.append(CATEGORICAL)
    (out / "profiles.json").write_text(
        json.dumps({"baseline": baseline, "batch": current}, default=str), encoding="utf-8"
    )
    return {
        "flagged": flagged,
        "note": "SQL aggregation of both files + L-inf CDF check at 19 baseline quantiles",
        "version": _version("duckdb"),
    }


def _frequencies(counts: dict[str, int]) -> dict[str, float]:
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


# --------------------------------------------------------------------------- ydata-profiling
def run_ydata_profiling(data: Path, batch: Path, out: Path) -> Outcome:
    """ProfileReport(minimal=True) of both, then ``compare`` rendered to a JSON report.

    minimal=True (its documented setting for large data) skips correlations, interactions
    and missing-value diagrams; the full profile is far slower at these sizes. It has no
    drift test: the comparison shows both profiles side by side and flags nothing."""
    from ydata_profiling import ProfileReport

    baseline = ProfileReport(_read_pandas(data), title="baseline", minimal=True, progress_bar=False)
    current = ProfileReport(_read_pandas(batch), title="batch", minimal=True, progress_bar=False)
    comparison = baseline.compare(current)
    comparison.to_file(out / "comparison.json", silent=True)
    return {
        "flagged": None,
        "note": "ProfileReport(minimal=True) of both + compare(), JSON report; no drift test",
        "version": _version("ydata-profiling", "pandas"),
    }


# --------------------------------------------------------------------------- Great Expectations
def run_great_expectations(data: Path, batch: Path, out: Path) -> Outcome:
    """A suite built from the baseline's statistics (GX 1.x has no profiler: pandas computes
    them), validated on the batch through an ephemeral context.

    Per number: not null, values within the baseline's range widened by 10 %, mean within 0.1
    baseline std, std within 10 %, KL divergence of a 20-bin histogram (bins at the baseline's
    5 % quantiles, repeated ones merged) < 0.1; for sex: not null, values in the baseline's
    set, KL divergence < 0.1.
    ExpectColumnQuantileValuesToBeBetween is left out: GX 1.24.1 cannot store its result
    (its success details are numpy booleans, which its JSON store rejects)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    import numpy as np

    context = gx.get_context(mode="ephemeral")
    frame = _read_pandas(data)
    suite = gx.ExpectationSuite(name="baseline")
    suite.add_expectation(gxe.ExpectTableColumnsToMatchOrderedList(column_list=COLUMNS))
    for c in NUMERIC:
        values = frame[c].dropna().to_numpy()
        mean, std = float(values.mean()), float(values.std())
        low, high = float(values.min()), float(values.max())
        margin, tolerance = 0.1 * (high - low), 0.1 * std
        # unique: an integer column (rings) repeats quantiles, GX wants increasing bin edges
        edges = np.unique(np.quantile(values, np.linspace(0, 1, 21)))
        edges[0], edges[-1] = low - margin, high + margin
        weights = np.histogram(values, bins=edges)[0] / len(values)
        suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=c))
        suite.add_expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column=c, min_value=low - margin, max_value=high + margin
            )
        )
        suite.add_expectation(
            gxe.ExpectColumnMeanToBeBetween(
                column=c, min_value=mean - tolerance, max_value=mean + tolerance
            )
        )
        suite.add_expectation(
            gxe.ExpectColumnStdevToBeBetween(column=c, min_value=0.9 * std, max_value=1.1 * std)
        )
        suite.add_expectation(
            gxe.ExpectColumnKLDivergenceToBeLessThan(
                column=c,
                partition_object={"bins": edges.tolist(), "weights": weights.tolist()},
                threshold=0.1,
            )
        )
    counts = frame[CATEGORICAL].value_counts(normalize=True)
    suite.add_expectation(gxe.ExpectColumnValuesToNotBeNull(column=CATEGORICAL))
    suite.add_expectation(
        gxe.ExpectColumnValuesToBeInSet(column=CATEGORICAL, value_set=counts.index.tolist())
    )
    suite.add_expectation(
        gxe.ExpectColumnKLDivergenceToBeLessThan(
            column=CATEGORICAL,
            partition_object={"values": counts.index.tolist(), "weights": counts.tolist()},
            threshold=0.1,
        )
    )
    del frame

    suite = context.suites.add(suite)
    asset = context.data_sources.add_pandas("bench").add_dataframe_asset("batch")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    validation = context.validation_definitions.add(
        gx.ValidationDefinition(data=definition, suite=suite, name="check")
    )
    result = validation.run(batch_parameters={"dataframe": _read_pandas(batch)})
    (out / "validation.json").write_text(
        json.dumps(result.describe_dict(), default=str), encoding="utf-8"
    )
    failed = [r.expectation_config for r in result.results if not r.success]
    flagged = sorted({str(e.kwargs.get("column")) for e in failed if e.kwargs.get("column")})
    return {
        "flagged": flagged,
        "note": f"{len(result.results)} expectations from the baseline, {len(failed)} failed",
        "version": _version("great-expectations", "pandas"),
    }


# --------------------------------------------------------------------------- whylogs
def run_whylogs(data: Path, batch: Path, out: Path) -> Outcome:
    """``why.log`` of both (pandas reads the CSV), profiles written, then the drift scores of
    its summary drift report (``calculate_drift_scores``: KS on numbers, chi-squared on
    categories); a column counts as flagged when its category is DRIFT."""
    import whylogs as why
    from whylogs.viz.drift.column_drift_algorithms import calculate_drift_scores

    views = {}
    for name, path in (("baseline", data), ("batch", batch)):
        views[name] = why.log(pandas=_read_pandas(path)).view()
        views[name].write(str(out / f"{name}.bin"))
    scores = calculate_drift_scores(
        target_view=views["batch"], reference_view=views["baseline"], with_thresholds=True
    )
    (out / "drift.json").write_text(json.dumps(scores, default=str), encoding="utf-8")
    flagged = sorted(c for c, s in scores.items() if s and s.get("drift_category") == "DRIFT")
    return {
        "flagged": flagged,
        "note": "why.log of both + calculate_drift_scores (summary drift report)",
        "version": _version("whylogs", "pandas"),
    }


# --------------------------------------------------------------------------- evidently
def run_evidently(data: Path, batch: Path, out: Path) -> Outcome:
    """``Report([DataDriftPreset()])`` of the batch against the baseline, saved as JSON (its
    defaults at this size: normed Wasserstein for numbers, Jensen-Shannon for categories)."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset()]).run(
        current_data=_read_pandas(batch), reference_data=_read_pandas(data)
    )
    snapshot.save_json(str(out / "report.json"))
    flagged = []
    for metric in snapshot.dict()["metrics"]:
        config = metric.get("config", {})
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        p_value = "p_value" in str(config.get("method", ""))
        if (value < threshold) if p_value else (value >= threshold):
            flagged.append(str(config["column"]))
    return {
        "flagged": sorted(flagged),
        "note": "Report([DataDriftPreset()]) batch vs baseline, JSON snapshot",
        "version": _version("evidently", "pandas"),
    }


RUNNERS: dict[str, Callable[[Path, Path, Path], Outcome]] = {
    "duckdb": run_duckdb,
    "ydata-profiling": run_ydata_profiling,
    "great-expectations": run_great_expectations,
    "whylogs": run_whylogs,
    "evidently": run_evidently,
}


def main(argv: list[str]) -> None:
    if len(argv) != 4 or argv[0] not in RUNNERS:
        raise SystemExit(f"usage: run_peer.py {{{','.join(RUNNERS)}}} DATA BATCH OUT")
    tool, data, batch, out = argv[0], Path(argv[1]), Path(argv[2]), Path(argv[3])
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    outcome = RUNNERS[tool](data, batch, out)
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, **outcome}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
