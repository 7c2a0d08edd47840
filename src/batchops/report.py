"""A self-contained HTML report of a lifecycle (no network: styles and SVG inline)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from batchops.data.schema import MONITOR_NAMES
from batchops.fs import atomic_write_text

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d9e2ec}
table{border-collapse:collapse;width:100%;font-size:.9rem}
td,th{border-bottom:1px solid #e4e7eb;padding:.35rem .5rem;text-align:left}
.ok{color:#1a7f37}.bad{color:#b42318}.muted{color:#7b8794}
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


def _feature(name: str) -> str:
    """``_c3`` -> ``height (_c3)``: Model Monitor names headerless columns by position."""
    return f"{MONITOR_NAMES[name]} ({name})" if name in MONITOR_NAMES else name


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    if not rows:
        return '<p class="muted">none</p>'
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _timeline(timings: dict[str, float]) -> str:
    phases = [(k, v) for k, v in timings.items() if k != "total"]
    total = sum(v for _k, v in phases) or 1.0
    width, bar, offset, parts = 900, 26, 0.0, []
    for index, (name, seconds) in enumerate(phases):
        x = 260 + offset / total * (width - 270)
        w = max(2.0, seconds / total * (width - 270))
        y = 10 + index * (bar + 8)
        parts.append(
            f'<text x="0" y="{y + 18}" font-size="12">{html.escape(name[:40])}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="#3e7cb1">'
            f"<title>{seconds:.1f}s</title></rect>"
            f'<text x="{x + w + 4:.1f}" y="{y + 18}" font-size="12">{seconds:.1f}s</text>'
        )
        offset += seconds
    height = 20 + len(phases) * (bar + 8)
    return (
        f'<svg id="timeline" width="{width}" height="{height}" role="img" '
        f'aria-label="lifecycle timeline">{"".join(parts)}</svg>'
    )


def _mq_chart(runs: list[dict[str, Any]]) -> str:
    points = [(i, r["model_quality"]) for i, r in enumerate(runs) if r.get("model_quality")]
    if not points:
        return '<p class="muted">no batch with ground truth</p>'
    top = max(max(q["mse"] or 0, q["threshold"]) for _i, q in points) * 1.15
    parts = []
    for slot, (index, quality) in enumerate(points):
        h = (quality["mse"] or 0) / top * 200
        colour = "#1a7f37" if quality["passed"] else "#b42318"
        x = 40 + slot * 90
        parts.append(
            f'<rect x="{x}" y="{220 - h:.1f}" width="50" height="{h:.1f}" '
            f'fill="{colour}"><title>run {index + 1}: mse {quality["mse"]}</title></rect>'
            f'<text x="{x}" y="238" font-size="11">run {index + 1}</text>'
        )
    line = 220 - points[0][1]["threshold"] / top * 200
    parts.append(
        f'<line x1="30" x2="{60 + len(points) * 90}" y1="{line:.1f}" y2="{line:.1f}" '
        'stroke="#b42318" stroke-dasharray="4"/>'
        f'<text x="32" y="{line - 4:.1f}" font-size="11">threshold</text>'
    )
    return (
        f'<svg id="model-quality" width="{80 + len(points) * 90}" height="245">'
        f"{''.join(parts)}</svg>"
    )


def render(summary: dict[str, Any]) -> str:
    runs = summary.get("inference_runs", [])
    run_rows = [
        {
            "env": r["env"],
            "status": r["status"],
            "dq_violations": len(r["data_quality_violations"]),
            "drifted_features": ", ".join(
                sorted({_feature(str(v["feature"])) for v in r["data_quality_violations"]})
            )
            or None,
            "mse": (r["model_quality"] or {}).get("mse"),
            "mq_passed": (r["model_quality"] or {}).get("passed"),
            "execution": r["execution"].rsplit("/", 1)[-1],
        }
        for r in runs
    ]
    governance = [{"rule": k, "outcome": v} for k, v in summary.get("governance", {}).items()]
    sections = [
        "<h1>batchops lifecycle report</h1>",
        f"<p>Total {summary['timings_s'].get('total', 0):.1f}s on the local cloud; "
        f"{summary.get('gitlab_triggers', 0)} GitLab trigger(s), "
        f"{summary.get('notifications', 0)} notification(s).</p>",
        "<h2>Timeline</h2>",
        _timeline(summary.get("timings_s", {})),
        "<h2>Model versions</h2>",
        _table(
            summary.get("model_versions", []), ["version", "source", "status", "rmse", "review_ref"]
        ),
        "<h2>Inference runs</h2>",
        _table(
            run_rows,
            ["env", "status", "dq_violations", "drifted_features", "mse", "mq_passed", "execution"],
        ),
        "<h2>Model quality against the threshold</h2>",
        _mq_chart(runs),
        "<h2>Deployments</h2>",
        _table(summary.get("deployments", []), ["env", "version", "at"]),
        "<h2>Governance</h2>",
        _table(governance, ["rule", "outcome"]),
        "<h2>Retraining</h2>",
        _table([summary.get("retraining") or {}], ["started", "reason", "suppressed_duplicates"]),
    ]
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<title>batchops lifecycle report</title>"
        f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n"
    )


def write_report(summary: dict[str, Any], path: Path) -> None:
    atomic_write_text(path, render(summary))
