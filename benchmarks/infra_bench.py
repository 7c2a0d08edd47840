"""Infrastructure part of `make test`: wall time, side by side with the plain sequential loop.

Measured in one run (same plugin cache, already initialised, so both sides pay the same):

* **ours**: ``tests/infra/tfharness.py`` as ``make test-infra`` runs it — ``terraform fmt``,
  then ``init``/``validate``/``terraform test`` of every module and root, 2 at a time;
* **peer**: the same harness with ``--jobs 1`` — what a ``for d in */; do terraform test;
  done`` loop in CI costs;
* one module's ``terraform test`` (``shared-modules/kms-key``);
* the rest of the infrastructure checks ``make test`` runs: the local-cloud apply and
  re-plan (``tests/infra``), and checkov over the tree (``make test-policies``).

Goal (issue 8): the infrastructure part of ``make test`` ≤ 4 minutes on this machine.
Writes ``benchmarks/results/infra.md``. Needs Terraform and the provider mirror (see
``mk/infra.mk``); prints why and writes nothing when they are missing.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "infra.md"
GOAL_S = 240.0


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise SystemExit(f"{' '.join(command[:4])} failed:\n" + "\n".join(tail))
    return time.perf_counter() - started


def main() -> None:
    rc = ROOT / ".infra-work" / "terraformrc"
    if not shutil.which("terraform") or not rc.is_file():
        print(
            "infra benchmark: SKIPPED - terraform or .infra-work/terraformrc missing "
            "(run `make test-infra` once)"
        )
        return
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(rc), "TF_IN_AUTOMATION": "1"}
    harness = [sys.executable, "tests/infra/tfharness.py"]
    timed(harness, env)  # warm: providers linked from the cache, .terraform dirs present
    ours = timed(harness, env)
    sequential = timed([*harness, "--jobs", "1"], env)
    module = timed([*harness, "shared-modules/kms-key"], env)
    apply = timed(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/infra"], env
    )
    checkov = (
        timed(["make", "--no-print-directory", "test-policies"], env)
        if (ROOT / ".venv-checkov" / "bin" / "checkov").exists()
        else None
    )
    total = ours + apply + (checkov or 0.0)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [
        "# Infrastructure tests",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by `benchmarks/infra_bench.py` on "
        f"{platform.machine()}, {os.cpu_count()} CPU(s); load average after the runs {load}.",
        "",
        "| measure | ours | peer | ratio | goal |",
        "|---|---:|---:|---:|---|",
        f"| fmt + validate + `terraform test`, every module and root | {ours:.0f} s (2 at a time) "
        f"| sequential loop {sequential:.0f} s | {ours / sequential:.2f} | |",
        f"| one module (`shared-modules/kms-key`, fmt + validate + test) | {module:.0f} s | | | |",
        f"| local-cloud apply + re-plan + plan-JSON tag policy (`tests/infra`) | {apply:.0f} s "
        "| | | |",
        "| checkov over the tree (`make test-policies`) | "
        + (f"{checkov:.0f} s" if checkov is not None else "not installed")
        + " | | | |",
        f"| **infrastructure part of `make test`** | **{total:.0f} s** | | | ≤ {GOAL_S:.0f} s: "
        + ("met" if total <= GOAL_S else f"MISSED by {total - GOAL_S:.0f} s")
        + " |",
        "",
    ]
    RESULTS.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
