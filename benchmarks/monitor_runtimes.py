"""The data-quality engine under the runtime of the image it runs in on AWS, for monitor_bench.

On AWS the data-quality steps are two SageMaker Processing jobs (training: baseline;
inference: check) in the scikit-learn 1.2-1 image — Python 3.9, numpy 1.24.1, pandas
1.1.3, no polars — running the step code archive with polars shipped as wheels. Locally
that runtime is ``.venv-images/sklearn-1.2-1`` (``make image-runtimes``). Two tools of the
data-quality benchmark use it, next to the engine in the project's runtime and the polars
floor, so the cost of the image runtime is visible in one run:

* ``batchops, sklearn image``: the step code archive run twice as the two jobs run it —
  ``python3 job.pyz --mode baseline`` on the data, then ``--mode check`` on the batch —
  each a fresh interpreter that unpacks the shipped wheels first, as on AWS (unpacking and
  imports are in the time);
* ``pandas floor, sklearn image``: the least a pandas-only engine must do
  (``benchmarks/image_floor.py``), the measured alternative to shipping the wheels.

Model Monitor itself is not run here (it needs AWS); its documented instance type and the
job start-up cost are given as a reference, not measured.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "sklearn-1.2-1"
IMAGE_PYTHON = ROOT / ".venv-images" / IMAGE / "bin" / "python"
IMAGE_FLOOR = ROOT / "benchmarks" / "image_floor.py"
ENGINE_IMAGE_TOOL = "batchops, sklearn image"
PANDAS_IMAGE_TOOL = "pandas floor, sklearn image"
#: The issue's goals for the image runtime.
IMAGE_FLOOR_RATIO_GOAL = 3.0
#: Model Monitor, as documented (not measured here): the SageMaker SDK's DefaultModelMonitor
#: and the pipelines' CheckJobConfig examples use ml.m5.xlarge (4 vCPU, 16 GiB); a
#: processing job (a QualityCheck step is one) pays instance provisioning and image pull
#: before the analyzer starts — minutes, 2-8 min per job in the figures the lifecycle
#: benchmark uses; AWS documents no fixed start-up time.
MODEL_MONITOR_REFERENCE = (
    "Model Monitor (reference, not measured here): its analyzer runs as a SageMaker "
    "processing job, on ml.m5.xlarge (4 vCPU, 16 GiB) in the SDK's defaults and AWS's "
    "examples; each job first provisions its instance and pulls the analyzer image, which "
    "takes minutes (2-8 min per processing job in the figures benchmarks/lifecycle.py uses; "
    "AWS documents no fixed start-up time). The same start-up applies to the batchops "
    "Processing steps on AWS: the seconds above are the analysis alone."
)


def image_runtime_missing() -> str | None:
    """Why the image runtime cannot be used, or None."""
    if not (IMAGE_PYTHON.parent.parent / ".installed").is_file():
        return f"no {IMAGE} image runtime (make image-runtimes found no CPython 3.9)"
    return None


def run_engine_in_image(data: Path, batch: Path, out: Path) -> dict[str, object]:
    """Child side (project venv): build the archive, then time the two jobs under the image's
    Python — the archive is a build artefact, its build is not part of a job's time."""
    from batchops.pipelines.data_quality import JOB_SCRIPT, step_wheels
    from batchops.pipelines.step_code import build_archive

    missing = image_runtime_missing()
    if missing:
        raise SystemExit(missing)
    archive = out / "job.pyz"
    archive.write_bytes(build_archive(JOB_SCRIPT))
    wheels = str(step_wheels(IMAGE))
    baseline, check = out / "baseline", out / "check"
    jobs = [
        ["--mode", "baseline", "--dataset", str(data), "--output", str(baseline)],
        [
            "--mode",
            "check",
            "--dataset",
            str(batch),
            "--output",
            str(check),
            "--baseline",
            str(baseline),
            "--baseline-statistics",
            "s3://registered/statistics.json",
            "--baseline-constraints",
            "s3://registered/constraints.json",
        ],
    ]
    start = time.perf_counter()
    first = ""
    for arguments in jobs:
        done = subprocess.run(
            [str(IMAGE_PYTHON), str(archive), "--wheels", wheels, *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"job {arguments[1]} failed: {done.stderr.strip()[-300:]}")
        first = first or done.stdout.splitlines()[0]
    seconds = time.perf_counter() - start
    violations = json.loads((check / "constraint_violations.json").read_text())["violations"]
    runtime = first.split(" on ", 1)[-1] if " on " in first else first
    return {
        "seconds": seconds,
        "note": f"two jobs (baseline, check) on {runtime}; {len(violations)} violation(s)",
        "flagged": sorted({v["feature_name"] for v in violations}),
    }


def pandas_floor_command(data: Path, batch: Path, out: Path) -> list[str]:
    """The pandas-only floor under the image's Python (-I: nothing but the image runtime)."""
    return [str(IMAGE_PYTHON), "-I", str(IMAGE_FLOOR), str(data), str(batch), str(out)]


def goal_lines(results: dict, find, verdict, rss_rows: int, rss_goal: float) -> list[str]:  # type: ignore[no-untyped-def]
    """The image runtime's goals, in the same words as the other goals of the benchmark."""
    parts, decision = [], []
    for rows, rs in results.items():
        image, floor = find(rs, ENGINE_IMAGE_TOOL), find(rs, "polars floor")
        pandas, project = find(rs, PANDAS_IMAGE_TOOL), find(rs, "batchops")
        if image is None or floor is None or not (image.status == floor.status == "ok"):
            why = image.note if image is not None else "not run"
            parts.append(f"{rows:,} rows: not evaluated ({why})")
            continue
        ratio = image.seconds / floor.seconds
        cost = ""
        if project is not None and project.status == "ok":
            cost = f", {image.seconds / project.seconds:.2f}x the project runtime"
        parts.append(f"{rows:,} rows: {verdict(ratio, IMAGE_FLOOR_RATIO_GOAL, at_most=True)}{cost}")
        if pandas is not None and pandas.status == "ok":
            faster = "the shipped wheels" if image.seconds < pandas.seconds else "pandas only"
            decision.append(
                f"{rows:,} rows: engine with shipped wheels {image.seconds:.2f} s vs the "
                f"pandas-only floor {pandas.seconds:.2f} s — {faster} faster"
            )
    lines = [
        f"* batchops in the {IMAGE} image's runtime (shipped wheels), baseline + check ≤ "
        f"{IMAGE_FLOOR_RATIO_GOAL:g}x the polars floor — " + "; ".join(parts) + "."
    ]
    image = find(results.get(rss_rows, []), ENGINE_IMAGE_TOOL)
    if image is None or image.status != "ok" or image.peak_rss_mib is None:
        rss = f"not evaluated (it did not run at {rss_rows:,} rows)"
    else:
        rss = f"{rss_rows:,} rows: " + verdict(
            image.peak_rss_mib, rss_goal, at_most=True, unit=" MiB", digits=0
        )
    lines.append(f"* batchops in the {IMAGE} image's runtime, peak RSS ≤ 2 GiB — {rss}.")
    if decision:
        lines.append(
            "* Shipped wheels or what the image has (the issue's choice, measured): "
            + "; ".join(decision)
            + "."
        )
    return lines


if __name__ == "__main__":  # pragma: no cover - run through monitor_bench
    sys.exit("run benchmarks/monitor_bench.py")
