"""Inline SVG charts of the lifecycle report: Gantt per account, pipeline DAGs, drift
histograms, deployments over time, model quality against the threshold.

Plain SVG strings (no script, no network): the report stays one self-contained file that
any browser, mail client or CI artefact viewer shows as is.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

STATUS_COLOURS = {
    "Succeeded": "#2f9e44",
    "Failed": "#e03131",
    "Executing": "#1c7ed6",
    "Starting": "#1c7ed6",
    "Stopped": "#868e96",
    None: "#ced4da",  # the step never ran (a branch not taken)
}
_BASELINE, _BATCH = "#4c6ef5", "#f08c00"


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def feature_label(name: str, columns: list[str] | None = None) -> str:
    """``_c3`` -> ``height (_c3)``: Model Monitor names headerless columns by position;
    ``columns`` are the dataset's columns in file order (the summary's ``dataset``)."""
    if columns is None:
        from batchops.data.spec import current_spec

        columns = list(current_spec().columns)
    names = {f"_c{i}": column for i, column in enumerate(columns)}
    return f"{names[name]} ({name})" if name in names else name


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _svg(ident: str, width: float, height: float, body: str, label: str) -> str:
    return (
        f'<svg id="{esc(ident)}" class="chart" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{esc(label)}">'
        f"{body}</svg>"
    )


# ----- phases -----------------------------------------------------------------------------
def phases(timings: dict[str, float]) -> str:
    """The demo's phases one after the other, as the narrative printed them."""
    items = [(k, v) for k, v in timings.items() if k not in ("total", "wall")]
    items.sort(key=lambda item: not item[0].startswith("setup"))  # set-up came first
    total = sum(v for _k, v in items) or 1.0
    width, bar, left, offset, parts = 960, 24, 330, 0.0, []
    for index, (name, seconds) in enumerate(items):
        x = left + offset / total * (width - left - 60)
        w = max(2.0, seconds / total * (width - left - 60))
        y = 6 + index * (bar + 8)
        parts.append(
            f'<text x="0" y="{y + 16}" font-size="12">{esc(name[:52])}</text>'
            f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" fill="#3e7cb1">'
            f"<title>{esc(name)}: {seconds:.1f}s</title></rect>"
            f'<text x="{x + w + 4:.1f}" y="{y + 16}" font-size="12">{seconds:.1f}s</text>'
        )
        offset += seconds
    return _svg("timeline", width, 12 + len(items) * (bar + 8), "".join(parts), "demo phases")


# ----- Gantt ------------------------------------------------------------------------------
def gantt(executions: list[dict[str, Any]], accounts: dict[str, str]) -> str:
    """Pipeline runs as bars on one time axis, grouped by account; steps inside each bar."""
    runs = [e for e in executions if e.get("start")]
    if not runs:
        return '<p class="muted">no pipeline execution recorded</p>'
    starts = [_time(e["start"]) for e in runs]
    ends = [_time(e.get("end") or e["start"]) for e in runs]
    t0 = min(t for t in starts if t)
    span = max((t - t0).total_seconds() for t in ends if t) or 1.0
    width, left, row, parts, y = 960, 250, 22, [], 4
    scale = (width - left - 20) / span

    def x_of(value: str | None) -> float:
        moment = _time(value)
        return left + ((moment - t0).total_seconds() if moment else 0.0) * scale

    for env, account in accounts.items():
        mine = [e for e in runs if e["env"] == env]
        if not mine:
            continue
        parts.append(
            f'<text x="0" y="{y + 14}" font-size="12" font-weight="600">'
            f"{esc(env)} · {esc(account)}</text>"
            f'<line x1="0" x2="{width}" y1="{y + 19}" y2="{y + 19}" stroke="#dee2e6"/>'
        )
        y += row
        for run in mine:
            x1, x2 = x_of(run["start"]), x_of(run.get("end") or run["start"])
            colour = STATUS_COLOURS.get(run["status"], "#868e96")
            short = run["arn"].rsplit("/", 1)[-1][:10]
            parts.append(
                f'<text x="8" y="{y + 13}" font-size="11">{esc(run["pipeline"])} '
                f'<tspan fill="#868e96">{esc(short)}</tspan></text>'
                f'<rect class="run" x="{x1:.1f}" y="{y + 1}" width="{max(2.0, x2 - x1):.1f}" '
                f'height="{row - 6}" rx="3" fill="{colour}" fill-opacity="0.25" '
                f'stroke="{colour}"><title>{esc(run["pipeline"])} {esc(run["status"])}: '
                f"{(x2 - x1) / scale:.1f}s</title></rect>"
            )
            for step in run.get("steps", []):
                if not step.get("start"):
                    continue
                s1, s2 = x_of(step["start"]), x_of(step.get("end") or run.get("end"))
                parts.append(
                    f'<rect x="{s1:.1f}" y="{y + 5}" width="{max(1.0, s2 - s1):.1f}" '
                    f'height="{row - 14}" fill="{STATUS_COLOURS.get(step["status"], "#868e96")}">'
                    f"<title>{esc(step['name'])} {esc(step['status'])}: "
                    f"{(s2 - s1) / scale:.1f}s</title></rect>"
                )
            y += row
    ticks = []
    for index in range(6):
        seconds = span * index / 5
        tx = left + seconds * scale
        label = f"{seconds:.0f}s" if span >= 30 else f"{seconds:.1f}s"
        ticks.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="0" y2="{y}" stroke="#f1f3f5"/>'
            f'<text x="{tx:.1f}" y="{y + 14}" font-size="10" text-anchor="middle">{label}</text>'
        )
    return _svg(
        "gantt", width, y + 20, "".join(ticks) + "".join(parts), "pipeline runs per account"
    )


# ----- DAG --------------------------------------------------------------------------------
def pipeline_dag(ident: str, run: dict[str, Any]) -> str:
    """The steps of one execution's definition, left to right, coloured by step status."""
    graph = run.get("dag") or {}
    nodes = graph.get("nodes") or []
    if not nodes:
        return '<p class="muted">definition not recorded</p>'
    edges = graph.get("edges") or []
    parents: dict[str, list[str]] = {n["name"]: [] for n in nodes}
    for source, target in edges:
        parents.setdefault(target, []).append(source)
    layer: dict[str, int] = {}

    def depth(name: str, seen: frozenset[str] = frozenset()) -> int:
        if name not in layer:
            before = [p for p in parents.get(name, []) if p not in seen]
            layer[name] = 1 + max((depth(p, seen | {name}) for p in before), default=-1)
        return layer[name]

    for node in nodes:
        depth(node["name"])
    columns: dict[int, list[dict[str, Any]]] = {}
    for node in nodes:
        columns.setdefault(layer[node["name"]], []).append(node)
    box_w, box_h, gap_x, gap_y = 150, 40, 36, 14
    where: dict[str, tuple[float, float]] = {}
    for column, members in columns.items():
        for index, node in enumerate(members):
            where[node["name"]] = (10 + column * (box_w + gap_x), 10 + index * (box_h + gap_y))
    status = {s["name"]: s for s in run.get("steps", [])}
    marker = f"{ident}-arrow"
    parts = [
        f'<defs><marker id="{esc(marker)}" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#868e96"/></marker></defs>'
    ]
    for source, target in edges:
        (sx, sy), (tx, ty) = where[source], where[target]
        x1, y1, x2, y2 = sx + box_w, sy + box_h / 2, tx, ty + box_h / 2
        mid = (x1 + x2) / 2
        parts.append(
            f'<path d="M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} '
            f'{x2 - 2:.0f},{y2:.0f}" fill="none" stroke="#868e96" '
            f'marker-end="url(#{esc(marker)})"/>'
        )
    for node in nodes:
        x, y = where[node["name"]]
        step = status.get(node["name"], {})
        state = step.get("status")
        colour = STATUS_COLOURS.get(state, "#868e96")
        tip = f"{node['name']} ({node['type']}): {state or 'not run'}"
        if step.get("failure_reason"):
            tip += f" — {step['failure_reason']}"
        label = node["name"] if len(node["name"]) <= 20 else node["name"][:19] + "…"
        branch = f" · {node['branch']}" if node.get("branch") else ""
        parts.append(
            f'<g class="step"><title>{esc(tip)}</title>'
            f'<rect x="{x}" y="{y}" width="{box_w}" height="{box_h}" rx="6" '
            f'fill="{colour}" fill-opacity="{0.18 if state else 0.06}" stroke="{colour}"/>'
            f'<text x="{x + 8}" y="{y + 16}" font-size="12" font-weight="600">{esc(label)}</text>'
            f'<text x="{x + 8}" y="{y + 31}" font-size="10" fill="#495057">'
            f"{esc(node['type'])}{esc(branch)} · {esc(state or 'not run')}</text></g>"
        )
    width = 20 + len(columns) * (box_w + gap_x)
    height = 20 + max(len(m) for m in columns.values()) * (box_h + gap_y)
    return _svg(ident, width, height, "".join(parts), f"DAG of {run['pipeline']}")


# ----- drift ------------------------------------------------------------------------------
def drift_histogram(ident: str, item: dict[str, Any]) -> str:
    """Baseline and batch distributions of one feature, side by side per bin."""
    shown = item.get("distributions")
    if not shown:
        return '<p class="muted">no distribution recorded for this feature</p>'
    labels = shown.get("values") or []
    count = len(shown["baseline"])
    width, height, left, bottom = 460, 200, 36, 30
    slot = (width - left - 10) / count
    top = max(*shown["baseline"], *shown["batch"]) or 1.0
    parts = [
        f'<line x1="{left}" x2="{width - 10}" y1="{height - bottom}" y2="{height - bottom}" '
        'stroke="#adb5bd"/>'
    ]
    for index in range(count):
        for offset, series, colour in ((0, "baseline", _BASELINE), (1, "batch", _BATCH)):
            value = shown[series][index]
            h = value / top * (height - bottom - 20)
            x = left + index * slot + offset * slot / 2
            bar = max(1.0, slot / 2 - 1)
            parts.append(
                f'<rect x="{x:.1f}" y="{height - bottom - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{colour}" fill-opacity="0.8">'
                f"<title>{series} {value:.1%}</title></rect>"
            )
        if labels:
            parts.append(
                f'<text x="{left + (index + 0.5) * slot:.1f}" y="{height - bottom + 14}" '
                f'font-size="11" text-anchor="middle">{esc(labels[index])}</text>'
            )
    if not labels:
        edges = shown["edges"]
        parts.append(
            f'<text x="{left}" y="{height - bottom + 14}" font-size="10">{edges[0]:g}</text>'
            f'<text x="{width - 10}" y="{height - bottom + 14}" font-size="10" '
            f'text-anchor="end">{edges[-1]:g}</text>'
        )
    parts.append(
        f'<rect x="{left}" y="4" width="10" height="10" fill="{_BASELINE}"/>'
        f'<text x="{left + 14}" y="13" font-size="11">baseline (training)</text>'
        f'<rect x="{left + 140}" y="4" width="10" height="10" fill="{_BATCH}"/>'
        f'<text x="{left + 154}" y="13" font-size="11">batch</text>'
    )
    return _svg(ident, width, height, "".join(parts), f"drift of {item['feature']}")


# ----- deployments ------------------------------------------------------------------------
def deployments_chart(deployments: list[dict[str, Any]]) -> str:
    """Which version each environment ran over time (one lane per environment)."""
    dated = [(d, t) for d in deployments if (t := _time(d.get("at"))) is not None]
    if not dated:
        return '<p class="muted">no deployment recorded</p>'
    envs = list(dict.fromkeys(d["env"] for d, _t in dated))
    t0 = min(t for _d, t in dated)
    span = max((t - t0).total_seconds() for _d, t in dated) or 1.0
    width, left, lane = 960, 110, 44
    scale = (width - left - 60) / span
    parts = []
    for index, env in enumerate(envs):
        y = 20 + index * lane
        parts.append(
            f'<text x="0" y="{y + 4}" font-size="12" font-weight="600">{esc(env)}</text>'
            f'<line x1="{left}" x2="{width - 20}" y1="{y}" y2="{y}" stroke="#dee2e6"/>'
        )
        mine = [(d, t) for d, t in dated if d["env"] == env]
        for step, (record, moment) in enumerate(mine):
            x = left + (moment - t0).total_seconds() * scale
            end = (
                left + (mine[step + 1][1] - t0).total_seconds() * scale
                if step + 1 < len(mine)
                else width - 20
            )
            parts.append(
                f'<line x1="{x:.1f}" x2="{end:.1f}" y1="{y}" y2="{y}" stroke="#3e7cb1" '
                'stroke-width="4" stroke-opacity="0.35"/>'
                f'<circle class="deployment" cx="{x:.1f}" cy="{y}" r="7" fill="#3e7cb1">'
                f"<title>v{esc(record['version'])} to {esc(env)} at {esc(record['at'])}</title>"
                f'</circle><text x="{x:.1f}" y="{y - 11}" font-size="11" text-anchor="middle">'
                f"v{esc(record['version'])}</text>"
            )
    return _svg(
        "deployments", width, 24 + len(envs) * lane, "".join(parts), "deployments over time"
    )


# ----- model quality ----------------------------------------------------------------------
def _quality(run: dict[str, Any]) -> dict[str, Any]:
    """A run's model quality as ``{metric, value, threshold, passed}`` (older summaries
    wrote ``{mse, threshold, passed}``)."""
    quality = dict(run["model_quality"])
    if "metric" not in quality:
        quality = {"metric": "mse", "value": quality.get("mse"), **quality}
    return quality


def model_quality(runs: list[dict[str, Any]]) -> str:
    """Each labelled batch's metric as a bar, the threshold as a dashed line."""
    points = [(i, r) for i, r in enumerate(runs) if r.get("model_quality")]
    if not points:
        return '<p class="muted">no batch with ground truth</p>'
    qualities = [_quality(r) for _i, r in points]
    top = max(max(q["value"] or 0, q["threshold"]) for q in qualities) * 1.15 or 1.0
    parts = []
    for slot, ((index, run), quality) in enumerate(zip(points, qualities, strict=True)):
        value = quality["value"]
        h = (value or 0) / top * 200
        colour = STATUS_COLOURS["Succeeded" if quality["passed"] else "Failed"]
        x = 40 + slot * 100
        shown = "n/a" if value is None else f"{value:g}"
        parts.append(
            f'<rect x="{x}" y="{220 - h:.1f}" width="56" height="{h:.1f}" fill="{colour}">'
            f"<title>run {index + 1} in {esc(run['env'])}: {esc(quality['metric'])} "
            f"{esc(shown)}</title></rect>"
            f'<text x="{x + 28}" y="{215 - h:.1f}" font-size="11" text-anchor="middle">'
            f"{esc(shown)}</text>"
            f'<text x="{x + 28}" y="236" font-size="11" text-anchor="middle">run {index + 1}</text>'
            f'<text x="{x + 28}" y="249" font-size="10" text-anchor="middle" fill="#868e96">'
            f"{esc(run['env'])}</text>"
        )
    threshold = qualities[0]["threshold"]
    line = 220 - threshold / top * 200
    width = 80 + len(points) * 100
    parts.append(
        f'<line x1="30" x2="{width - 10}" y1="{line:.1f}" y2="{line:.1f}" '
        'stroke="#e03131" stroke-dasharray="4"/>'
        f'<text x="32" y="{line - 4:.1f}" font-size="11">{esc(qualities[0]["metric"])} '
        f"threshold {threshold}</text>"
    )
    return _svg("model-quality", width, 256, "".join(parts), "model quality per run")
