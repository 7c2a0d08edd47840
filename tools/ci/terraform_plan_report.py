#!/usr/bin/env python3
"""Summarise a Terraform plan for GitLab's merge-request widget.

GitLab's ``artifacts:reports:terraform`` expects ``{"create": N, "update": N, "delete": N}``
for one plan (the format GitLab's own Terraform images write). This reads the output of
``terraform show -json plan.cache`` and writes that summary, counting a replacement
(``["delete", "create"]``) as one delete and one create, as GitLab does.

Standard library only: the plan jobs run it before anything else is installed.
Usage: terraform_plan_report.py PLAN_JSON [--out REPORT_JSON]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

COUNTED_ACTIONS = ("create", "update", "delete")


def summarise(plan: dict[str, Any]) -> dict[str, int]:
    """Counts of created, updated and deleted resources in a ``terraform show -json`` plan."""
    counts = dict.fromkeys(COUNTED_ACTIONS, 0)
    for change in plan.get("resource_changes") or []:
        for action in (change.get("change") or {}).get("actions") or []:
            if action in counts:
                counts[action] += 1
    return counts


def _read_plan(path: Path) -> dict[str, Any]:
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SystemExit(
            f"error: {path}: no such plan file (run terraform show -json first)"
        ) from None
    except json.JSONDecodeError as exc:
        raise SystemExit(f"error: {path}:{exc.lineno}:{exc.colno}: not JSON: {exc.msg}") from None
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise SystemExit(f"error: {path}: not a 'terraform show -json' plan (no format_version)")
    return plan


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plan", type=Path, help="output of 'terraform show -json plan.cache'")
    parser.add_argument("--out", type=Path, help="report file (default: print to stdout)")
    args = parser.parse_args(argv)
    report = json.dumps(summarise(_read_plan(args.plan)), sort_keys=True) + "\n"
    if args.out:
        _write_atomically(args.out, report)
    else:
        sys.stdout.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
