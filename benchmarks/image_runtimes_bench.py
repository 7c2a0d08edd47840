"""Image runtimes: the cost of a container start per image runtime vs the single project
runtime the local cloud used before (one run, side by side).

For each image runtime (``.venv-images/<runtime>``, ``make image-runtimes``) and for the
project's Python 3.11 (what every step ran in before issue 15):

* zygote start: a warm zygote of that interpreter importing numpy, pandas, scikit-learn,
  xgboost… until it serves (paid once per runtime per local cloud);
* warm start: a container command forked from that zygote, to its exit (the median of
  ``RUNS``), for a script importing what the image's steps import;
* cold start: the same command as a fresh interpreter (``BATCHOPS_LOCAL_WARM=0``).

The ratio column is the image runtime's figure over the project runtime's. Writes
``benchmarks/results/image_runtimes.md``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = 7
#: what each runtime's steps import (the preprocess/data-quality and the training scripts)
SCRIPTS = {
    "sklearn-1.2-1": "import numpy, pandas, sklearn.preprocessing\n",
    "xgboost-1.7-1": "import numpy, pandas, xgboost\n",
}


def _env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "OMP_NUM_THREADS": "1"}


def _warm(python: str, script: Path, work: Path) -> tuple[float, float]:
    """(zygote start, median warm start) for ``python``."""
    from batchops.localcloud.executor.containers import warm

    warm.stop_all()
    started = time.perf_counter()
    process = warm.spawn([python, str(script)], work, _env())
    process.stdout.read()
    assert process.wait(60) == 0
    first = time.perf_counter() - started
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        process = warm.spawn([python, str(script)], work, _env())
        process.stdout.read()
        assert process.wait(60) == 0
        times.append(time.perf_counter() - started)
    warm.stop_all()
    median = statistics.median(times)
    return first - median, median


def _cold(python: str, script: Path, work: Path) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        subprocess.run([python, str(script)], cwd=work, env=_env(), check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from batchops.localcloud.executor.containers.runtimes import runtimes_dir

    lines = [
        "# Image runtimes: container start per image vs the single project runtime",
        "",
        f"One run on {os.cpu_count()} cores; medians of {RUNS} starts after one warm-up.",
        "",
        "| runtime | zygote start | warm start | cold start | warm vs project | cold vs project |",
        "|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for runtime, source in SCRIPTS.items():
            script = work / f"{runtime}.py"
            script.write_text(source)
            python = runtimes_dir() / runtime / "bin" / "python"
            project = _warm(sys.executable, script, work), _cold(sys.executable, script, work)
            if not (runtimes_dir() / runtime / ".installed").is_file():
                lines.append(f"| {runtime} | not built (`make image-runtimes`) | | | | |")
                continue
            (zygote, warm), cold = (
                _warm(str(python), script, work),
                _cold(str(python), script, work),
            )
            (p_zygote, p_warm), p_cold = project
            lines.append(
                f"| {runtime} | {zygote:.2f} s | {warm * 1000:.0f} ms | {cold:.2f} s | "
                f"{warm / p_warm:.2f} | {cold / p_cold:.2f} |"
            )
            lines.append(
                f"| project Python {sys.version_info.major}.{sys.version_info.minor} "
                f"(the same script) | {p_zygote:.2f} s | {p_warm * 1000:.0f} ms | "
                f"{p_cold:.2f} s | 1.00 | 1.00 |"
            )
    load = os.getloadavg()[0]
    lines += ["", f"Load average {load:.1f} at the end.", ""]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "image_runtimes.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
