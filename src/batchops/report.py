"""A self-contained HTML report of a lifecycle (no network: styles and SVG inline).

``render(summary, records)`` draws the demo's ``summary.json`` and the cloud's records
(``batchops.records.collect``: executions with steps and DAGs, drift distributions,
notifications, GitLab triggers). Without records (an old ``summary.json`` alone) the page
still shows the summary's tables and says what is missing.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from batchops import report_svg as svg
from batchops.fs import atomic_write_text

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left}
.ok{color:#1a7f37}.bad{color:#b42318}.muted{color:#7b8794}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d9e2ec;border-radius:8px;
padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.4rem}
.charts{display:flex;gap:1.5rem;flex-wrap:wrap}figure{margin:0}figcaption{font-size:.85rem}
details{margin:.4rem 0}summary{cursor:pointer}svg.chart{max-width:100%;height:auto}
"""


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="muted">-</span>'
    text = html.escape(str(value))
    good = value is True or (isinstance(value, str) and value in ("Succeeded", "Approved"))
    bad = value is False or (isinstance(value, str) and value in ("Failed", "Rejected", "refused"))
    if good:
        return f'<span class="ok">{text}</span>'
    if bad:
        return f'<span class="bad">{text}</span>'
    return text


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cards(summary: dict[str, Any], records: dict[str, Any]) -> str:
    runs = records.get("executions", [])
    figures = [
        ("total", f"{summary.get('timings_s', {}).get('total', 0):.1f}s"),
        ("pipeline runs", len(runs) if runs else "-"),
        ("model versions", len(summary.get("model_versions", []))),
        ("deployments", len(summary.get("deployments", []))),
        ("GitLab triggers", summary.get("gitlab_triggers", 0)),
        ("notifications", summary.get("notifications", 0)),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><b>{html.escape(str(v))}</b>{html.escape(k)}</div>'
            for k, v in figures
        )
        + "</div>"
    )


def _dags(records: dict[str, Any]) -> str:
    """Each pipeline's DAG as its latest run left it; earlier runs folded underneath."""
    runs = records.get("executions", [])
    if not runs:
        return '<p class="muted">no records: run `batchops report --endpoint URL`</p>'
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for run in runs:
        groups.setdefault((run["env"], run["pipeline"]), []).append(run)
    parts = []
    for number, ((env, pipeline), mine) in enumerate(groups.items()):
        latest = mine[-1]
        parts.append(
            f"<h3>{html.escape(pipeline)} <span class=muted>in {html.escape(env)} — "
            f"{len(mine)} run(s), latest {_cell(latest['status'])}</span></h3>"
            + svg.pipeline_dag(f"dag-{number}", latest)
        )
        for older, run in enumerate(mine[:-1]):
            reason = f" — {html.escape(run['failure_reason'])}" if run.get("failure_reason") else ""
            parts.append(
                f"<details><summary>run {older + 1}: {_cell(run['status'])}{reason}</summary>"
                + svg.pipeline_dag(f"dag-{number}-{older}", run)
                + "</details>"
            )
    return "".join(parts)


def _drift(records: dict[str, Any], columns: list[str] | None) -> str:
    items = records.get("drift", [])
    if not items:
        return '<p class="muted">no data-quality violation recorded</p>'
    figures = []
    for index, item in enumerate(items):
        run = item["execution"].rsplit("/", 1)[-1][:10]
        figures.append(
            f"<figure>{svg.drift_histogram(f'drift-{index}', item)}<figcaption>"
            f"<b>{html.escape(svg.feature_label(item['feature'], columns))}</b> in "
            f"{html.escape(item['env'])} run {html.escape(run)}: "
            f"{html.escape(', '.join(item['checks']))}</figcaption></figure>"
        )
    return '<div class="charts">' + "".join(figures) + "</div>"


def _version_columns(summary: dict[str, Any]) -> list[str]:
    versions = summary.get("model_versions", [])
    columns = ["version", "source", "status", "metric", "value"]
    if any("rmse" in v for v in versions):
        columns.append("rmse")
    return [*columns, "review_ref"]


def _notifications(notifications: list[dict[str, Any]]) -> str:
    """Counts per kind, the warnings and failures, then every message folded."""
    if not notifications:
        return '<p class="muted">none recorded</p>'

    def kind(note: dict[str, Any]) -> str:
        subject = str(note.get("subject") or "")
        if "WARNING" in subject:
            return "warning"
        return "failure" if "Failed" in subject else "status"

    kinds: dict[str, int] = {}
    for note in notifications:
        kinds[kind(note)] = kinds.get(kind(note), 0) + 1
    counts = ", ".join(f"{count} {name}" for name, count in sorted(kinds.items()))
    alerts = [n for n in notifications if kind(n) != "status"]
    return (
        f"<p>{html.escape(counts)}</p>"
        + _table(alerts, ["time", "account", "subject"])
        + "<details><summary>every notification</summary>"
        + _table(notifications, ["time", "account", "subject"])
        + "</details>"
    )


def _counts(counts: dict[str, Any]) -> str | None:
    """``{"sex": {"X": 3}}`` -> ``sex: 'X' x3``; ``{"diameter": 2}`` -> ``diameter x2``."""
    parts: list[str] = []
    for column, found in sorted((counts or {}).items()):
        if isinstance(found, dict):
            parts.extend(f"{column}: {value!r} x{n}" for value, n in sorted(found.items()))
        else:
            parts.append(f"{column} x{found}")
    return ", ".join(parts) or None


def _target(distribution: dict[str, Any] | None) -> str | None:
    """The ground truth beside the training target: ``mean 9.9 -> 16.9`` or class shares."""
    if not distribution:
        return None
    before, after = distribution["training"], distribution["batch"]
    if "shares" in after:
        classes = sorted(set(before.get("shares", {})) | set(after["shares"]))
        return ", ".join(
            f"{c} {before['shares'].get(c, 0):.0%}->{after['shares'].get(c, 0):.0%}"
            for c in classes
        )
    return f"mean {before['mean']:.3g}->{after['mean']:.3g}"


def _dataset(summary: dict[str, Any]) -> str:
    dataset = summary.get("dataset")
    if not dataset:
        return ""
    direction = "at least" if dataset.get("higher_is_better") else "at most"
    return (
        f"<p>Dataset <b>{html.escape(str(dataset['name']))}</b>: "
        f"{html.escape(str(dataset['problem_type']))} of "
        f"<b>{html.escape(str(dataset['target']))}</b> from "
        f"{len(dataset.get('columns', [])) - 1} features; model quality is "
        f"<b>{html.escape(str(dataset['metric']))}</b>, {direction} "
        f"{html.escape(str(dataset['threshold']))}.</p>"
    )


def render(summary: dict[str, Any], records: dict[str, Any] | None = None) -> str:
    records = records or {}
    runs = summary.get("inference_runs", [])
    columns = (summary.get("dataset") or {}).get("columns")

    def label(feature: Any) -> str:
        return svg.feature_label(str(feature), columns)

    run_rows = [
        {
            "env": r["env"],
            "status": r["status"],
            "dq_violations": len(r["data_quality_violations"]),
            "drifted_features": ", ".join(
                sorted({label(v["feature"]) for v in r["data_quality_violations"]})
            )
            or None,
            "metric": (r["model_quality"] or {}).get("metric"),
            "value": (r["model_quality"] or {}).get("value"),
            "mq_passed": (r["model_quality"] or {}).get("passed"),
            "unseen_categories": _counts(r.get("unseen_categories", {})),
            "missing_values": _counts(r.get("missing_values", {})),
            "target_vs_training": _target(r.get("target_distribution")),
            "execution": r["execution"].rsplit("/", 1)[-1],
        }
        for r in runs
    ]
    governance = [{"rule": k, "outcome": v} for k, v in summary.get("governance", {}).items()]
    notifications = records.get("notifications", [])
    triggers = [
        {**t, "variables": ", ".join(f"{k}={v}" for k, v in sorted(t["variables"].items()))}
        for t in records.get("gitlab_triggers", [])
    ]
    sections = [
        "<h1>batchops lifecycle report</h1>",
        _dataset(summary),
        _cards(summary, records),
        "<h2>Lifecycle timeline</h2>",
        "<p>Pipeline runs per account on one time axis; the darker segments are their "
        "steps (hover for names and durations).</p>",
        svg.gantt(records.get("executions", []), records.get("accounts", {})),
        "<h3>Demo phases</h3>",
        svg.phases(summary.get("timings_s", {})),
        "<h2>Pipelines</h2>",
        _dags(records),
        "<h2>Model versions</h2>",
        _table(summary.get("model_versions", []), _version_columns(summary)),
        "<h2>Inference runs</h2>",
        _table(
            run_rows,
            [
                "env",
                "status",
                "dq_violations",
                "drifted_features",
                "unseen_categories",
                "missing_values",
                "target_vs_training",
                "metric",
                "value",
                "mq_passed",
                "execution",
            ],
        ),
        "<h2>Data drift: baseline vs batch</h2>",
        _drift(records, columns),
        "<h2>Model quality against the threshold</h2>",
        svg.model_quality(runs),
        "<h2>Deployments</h2>",
        svg.deployments_chart(summary.get("deployments", [])),
        _table(summary.get("deployments", []), ["env", "version", "at"]),
        "<h2>Governance</h2>",
        _table(governance, ["rule", "outcome"]),
        "<h2>Retraining</h2>",
        _table([summary.get("retraining") or {}], ["started", "reason", "suppressed_duplicates"]),
        f"<h2>GitLab triggers ({len(triggers)})</h2>",
        _table(triggers, ["id", "created_at", "ref", "status", "variables"]),
        f"<h2>Notifications ({len(notifications)})</h2>",
        _notifications(notifications),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>batchops lifecycle report</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_report(
    summary: dict[str, Any], path: Path, records: dict[str, Any] | None = None
) -> None:
    atomic_write_text(path, render(summary, records))
