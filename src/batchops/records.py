"""What the report draws, read from a (local or real) cloud's records — never from a demo's
own bookkeeping.

``collect(endpoint)`` walks every environment's account: each pipeline's executions with
their steps (status, start and end, failure reason) and the DAG of the definition *that
execution ran* (``DescribePipelineDefinitionForExecution``), the data-quality checks'
baseline and batch statistics for the features that drifted (both KLL sketches evaluated on
one common grid, so the two histograms are comparable), and the local cloud's notification
outbox and GitLab stand-in. The result is plain JSON (``records.json`` beside the summary),
so ``batchops report`` can redraw the page after the local cloud stopped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from batchops.aws import Clients, clients_for, read_s3_json
from batchops.config import ENVIRONMENTS, load_settings

_STEP_REF = re.compile(r"Steps\.([A-Za-z0-9_-]+)")
#: Bins of the drift histograms (the sketches are evaluated at their edges).
DRIFT_BINS = 24


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds")
    return None if value is None else str(value)


# ----- pipeline DAGs ----------------------------------------------------------------------
def dag(definition: dict[str, Any]) -> dict[str, Any]:
    """Nodes and edges of a pipeline definition, transitively reduced.

    An edge ``a -> b`` exists when ``b`` depends on ``a`` (``DependsOn``), reads one of its
    properties (``{"Get": "Steps.a...."}``), or is a branch of condition ``a``. Steps
    nested in a condition's ``IfSteps``/``ElseSteps`` are nodes too. Edges implied by a
    longer path are dropped so the drawing shows the order, not every data reference.
    """
    nodes: list[dict[str, str]] = []
    depends: dict[str, set[str]] = {}

    def visit(steps: Iterable[dict[str, Any]], parent: str | None, branch: str | None) -> None:
        for step in steps:
            name = str(step["Name"])
            arguments = {
                k: v for k, v in (step.get("Arguments") or {}).items() if k not in _BRANCHES
            }
            refs = set(_STEP_REF.findall(json.dumps(arguments)))
            refs |= set(step.get("DependsOn") or [])
            if parent:
                refs.add(parent)
            nodes.append({"name": name, "type": str(step.get("Type", "")), "branch": branch or ""})
            depends[name] = refs - {name}
            for key, label in _BRANCHES.items():
                visit((step.get("Arguments") or {}).get(key) or [], name, label)

    visit(definition.get("Steps", []), None, None)
    known = {n["name"] for n in nodes}
    depends = {name: refs & known for name, refs in depends.items()}

    def reachable(start: str, skip: str) -> set[str]:
        """Steps ``start`` depends on, transitively, without the direct edge from ``skip``."""
        seen: set[str] = set()
        todo = [r for r in depends[start] if r != skip]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(depends[current])
        return seen

    edges = [
        [ref, name]
        for name, refs in depends.items()
        for ref in sorted(refs)
        if ref not in reachable(name, ref)
    ]
    return {"nodes": nodes, "edges": edges}


_BRANCHES = {"IfSteps": "if", "ElseSteps": "else"}


# ----- executions -------------------------------------------------------------------------
def _executions(clients: Clients, env: str, account: str) -> list[dict[str, Any]]:
    from botocore.exceptions import ClientError

    from batchops.pipelines import deploy as pipelines

    sm = clients.client("sagemaker")
    found: list[dict[str, Any]] = []
    for pipeline in sm.list_pipelines(MaxResults=100).get("PipelineSummaries", []):
        name = pipeline["PipelineName"]
        listed = sm.list_pipeline_executions(PipelineName=name, MaxResults=100)
        for summary in listed.get("PipelineExecutionSummaries", []):
            arn = summary["PipelineExecutionArn"]
            described = pipelines.describe(clients, arn)
            try:
                definition = json.loads(
                    sm.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)[
                        "PipelineDefinition"
                    ]
                )
            except (ClientError, ValueError, KeyError):
                definition = {}
            found.append(
                {
                    "env": env,
                    "account": account,
                    "pipeline": name,
                    "arn": arn,
                    "status": described["PipelineExecutionStatus"],
                    "start": _iso(described.get("CreationTime")),
                    "end": _iso(described.get("LastModifiedTime")),
                    "failure_reason": described.get("FailureReason"),
                    "steps": [
                        {
                            "name": s["StepName"],
                            "status": s.get("StepStatus"),
                            "start": _iso(s.get("StartTime")),
                            "end": _iso(s.get("EndTime")),
                            "failure_reason": s.get("FailureReason"),
                            "quality_check": quality_check(clients, s.get("Metadata")),
                        }
                        for s in pipelines.steps(clients, arn)
                    ],
                    "dag": dag(definition),
                }
            )
    found.sort(key=lambda e: e["start"] or "")
    return found


def quality_check(clients: Clients, metadata: Any) -> dict[str, Any] | None:
    """Where a data-quality step's files are (either engine); None for other steps.

    ``ViolationReport`` is set only when the step found violations, as QualityCheck's
    metadata does; a report that cannot be read is left out, not invented."""
    from batchops.functions.quality_report import find_report

    try:
        report = find_report(clients.client("sagemaker"), clients.client("s3"), metadata or {})
    except Exception:
        return None
    if report is None:
        return None
    return {
        "ViolationReport": report.violations_uri if report.violations else None,
        "BaselineUsedForDriftCheckStatistics": report.baseline_statistics_uri,
        "CalculatedBaselineStatistics": report.statistics_uri,
        "violations": report.violations,
    }


# ----- drift --------------------------------------------------------------------------------
def feature(statistics: dict[str, Any], name: str) -> dict[str, Any] | None:
    """One feature's entry of a statistics.json (None when the file has no such feature)."""
    return next((f for f in statistics.get("features", []) if f.get("name") == name), None)


def histograms(baseline: dict[str, Any], batch: dict[str, Any]) -> dict[str, Any] | None:
    """Both distributions of one feature on a common grid (fractions per bin).

    Numeric features: each KLL sketch's CDF at the grid's edges (the grid spans both
    minima and maxima). String features: the categorical buckets, as fractions.
    """
    import numpy as np

    from batchops.monitor.kll import KllSketch

    numeric = [
        (f.get("numerical_statistics") or {}).get("distribution", {}).get("kll")
        for f in (baseline, batch)
    ]
    if all(n and n.get("sketch") for n in numeric):
        sketches = [KllSketch.from_json(n["sketch"]) for n in numeric if n]
        stats = [baseline["numerical_statistics"], batch["numerical_statistics"]]
        low = min(float(s["min"]) for s in stats)
        high = max(float(s["max"]) for s in stats)
        if not high > low:
            return None
        edges = np.linspace(low, high, DRIFT_BINS + 1)
        series = []
        for sketch in sketches:
            cdf = np.asarray(sketch.cdf(edges), dtype=float)
            cdf[0], cdf[-1] = 0.0, 1.0  # the grid spans every value of both
            series.append([round(float(x), 5) for x in np.diff(cdf)])
        return {
            "kind": "numeric",
            "edges": [round(float(e), 5) for e in edges],
            "baseline": series[0],
            "batch": series[1],
        }
    categorical = [
        (f.get("string_statistics") or {}).get("distribution", {}).get("categorical", {})
        for f in (baseline, batch)
    ]
    if all(c.get("buckets") for c in categorical):
        counts = [{str(b["value"]): float(b["count"]) for b in c["buckets"]} for c in categorical]
        values = sorted(set(counts[0]) | set(counts[1]))
        fractions = [
            [round(c.get(v, 0.0) / (sum(c.values()) or 1.0), 5) for v in values] for c in counts
        ]
        return {
            "kind": "categorical",
            "values": values,
            "baseline": fractions[0],
            "batch": fractions[1],
        }
    return None


def _drift(clients: Clients, execution: dict[str, Any]) -> list[dict[str, Any]]:
    """Baseline vs batch distributions of the features a quality check flagged."""
    found: list[dict[str, Any]] = []
    for step in execution["steps"]:
        check = step.get("quality_check") or {}
        if not check.get("ViolationReport"):
            continue
        try:
            violations = check["violations"]
            baseline = read_s3_json(clients, check["BaselineUsedForDriftCheckStatistics"])
            batch = read_s3_json(clients, check["CalculatedBaselineStatistics"])
        except Exception:  # a record that cannot be read is left out, not invented
            continue
        for name in sorted({str(v.get("feature_name")) for v in violations}):
            checks = sorted(
                {str(v["constraint_check_type"]) for v in violations if v["feature_name"] == name}
            )
            features = feature(baseline, name), feature(batch, name)
            drawn = histograms(*features) if all(features) else None  # type: ignore[arg-type]
            found.append(
                {
                    "env": execution["env"],
                    "execution": execution["arn"],
                    "step": step["name"],
                    "feature": name,
                    "checks": checks,
                    "distributions": drawn,
                }
            )
    return found


# ----- the local cloud's own records ------------------------------------------------------
def internal(endpoint: str | None, name: str) -> list[Any]:
    """A ``/_batchops/<name>`` document of the local cloud ([] on AWS or when unreachable)."""
    import urllib.error
    import urllib.request

    if not endpoint:
        return []
    try:
        with urllib.request.urlopen(f"{endpoint}/_batchops/{name}", timeout=5) as response:
            return list(json.load(response))
    except (urllib.error.URLError, ValueError, OSError):
        return []


def collect(
    endpoint: str | None, clients_of: Callable[[str], Clients] | None = None
) -> dict[str, Any]:
    """Every record the report draws, from every environment's account.

    ``clients_of(env)`` gives the clients that read each account (default: the access role
    of its settings; the demo reads as the person watching, the account's administrator)."""
    executions: list[dict[str, Any]] = []
    drift: list[dict[str, Any]] = []
    accounts: dict[str, str] = {}
    for env in ENVIRONMENTS:
        settings = load_settings(env)
        accounts[env] = settings.account_id
        clients = clients_of(env) if clients_of else clients_for(settings, endpoint)
        for execution in _executions(clients, env, settings.account_id):
            executions.append(execution)
            drift.extend(_drift(clients, execution))
    for execution in executions:  # the sketches' URIs are not needed once drawn
        for step in execution["steps"]:
            step.pop("quality_check", None)
    notifications = [
        {
            "time": n.get("time"),
            "account": n.get("account"),
            "subject": n.get("subject"),
            "recipients": n.get("recipients", []),
        }
        for n in internal(endpoint, "notifications")
    ]
    triggers = [
        {
            "id": t.get("id"),
            "created_at": t.get("created_at"),
            "ref": t.get("ref"),
            "status": t.get("status"),
            "variables": {
                k: v
                for k, v in (t.get("variables") or {}).items()
                if "TOKEN" not in k.upper() and "SECRET" not in k.upper()
            },
        }
        for t in internal(endpoint, "gitlab-triggers")
    ]
    executions.sort(key=lambda e: e["start"] or "")
    return {
        "accounts": accounts,
        "executions": executions,
        "drift": drift,
        "notifications": notifications,
        "gitlab_triggers": triggers,
    }
