"""Collect ``benchmarks/results/*.md`` into ``benchmarks/results/README.md`` (make bench)."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parts = sorted(p for p in RESULTS.glob("*.md") if p.name != "README.md")
    versions = ", ".join(
        f"{name} {version(name)}"
        for name in ("sagemaker", "moto", "xgboost-cpu", "polars", "optuna")
    )
    header = [
        "# Benchmark results",
        "",
        f"Generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `make bench` on "
        f"{platform.platform()}, Python {platform.python_version()}; {versions}.",
        "Each table compares our figure with the tool a user would pick instead, measured in",
        "the same run; ratios < 1 mean faster than the peer.",
        "",
    ]
    body = [p.read_text(encoding="utf-8").strip() + "\n" for p in parts]
    (RESULTS / "README.md").write_text("\n".join(header) + "\n".join(body), encoding="utf-8")
    print(RESULTS / "README.md")


if __name__ == "__main__":
    main()
