"""Platform benchmarks, side by side with what users would otherwise pay (one run).

* CLI start-up: ``batchops --help`` vs importing the SageMaker SDK's pipeline modules
  (what a CLI that imports the SDK eagerly costs on every call). Goal < 0.5 s.
* Local cloud ready: ``batchops local up`` (moto + three bootstrapped accounts + executor)
  until ``endpoint=`` is printed vs a bare ``moto.server`` answering its first request.
  Goal < 10 s.
* Executor overhead per step: a pipeline of 10 no-op Processing steps, started with boto3,
  next to the floor of starting 10 Python processes; timed with warm containers (the
  default, after a first run has started the zygote), cold, and that first run. Goal
  < 0.3 s per step (SageMaker provisions an instance per processing step: minutes).

Writes ``benchmarks/results/platform.md``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
RESULTS = ROOT / "benchmarks" / "results"


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    return time.perf_counter() - started


def best_of(runs: int, command: list[str], env: dict[str, str] | None = None) -> float:
    return min(_timed(command, env) for _ in range(runs))


def cli_startup() -> tuple[float, float]:
    ours = best_of(3, [str(BIN / "batchops"), "--help"])
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAGEMAKER_VALIDATE_ROLE": "false"}
    sdk = best_of(2, [sys.executable, "-c", "import sagemaker.mlops.workflow.pipeline"], env)
    return ours, sdk


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def local_up() -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as state:
        started = time.perf_counter()
        process = subprocess.Popen(
            [str(BIN / "batchops"), "local", "up", "--state-dir", state],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )
        assert process.stdout is not None
        process.stdout.readline()
        ours = time.perf_counter() - started
        process.terminate()
        process.wait(timeout=30)
    port = _free_port()
    started = time.perf_counter()
    moto = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.05)
    bare = time.perf_counter() - started
    moto.terminate()
    moto.wait(timeout=30)
    return ours, bare


def _test_helpers() -> Any:
    """The tests' step builders (``tests/localcloud/conftest.py``: one Processing builder)."""
    import importlib.util

    path = ROOT / "tests" / "localcloud" / "conftest.py"
    spec = importlib.util.spec_from_file_location("localcloud_test_helpers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def executor_overhead(steps: int = 10) -> tuple[float, float, float, float]:
    sys.path.insert(0, str(ROOT / "src"))
    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.localcloud.runtime import local_cloud

    role = load_settings("data-science").role_arn
    helpers = _test_helpers()
    noops = [
        helpers.processing_step(f"Noop{i}", role, ["python3", "-c", "pass"]) for i in range(steps)
    ]
    for i, step in enumerate(noops[1:], start=1):
        step["DependsOn"] = [f"Noop{i - 1}"]
    definition = {"Version": "2020-12-01", "Parameters": [], "Steps": noops}
    with tempfile.TemporaryDirectory() as state, local_cloud(state_dir=Path(state)) as cloud:
        settings = load_settings("data-science")
        sm = clients_for(settings, cloud.endpoint).client("sagemaker")
        sm.create_pipeline(
            PipelineName="bench-noop",
            PipelineDefinition=json.dumps(definition),
            RoleArn=settings.role_arn,
        )

        def run() -> float:
            started = time.perf_counter()
            arn = sm.start_pipeline_execution(PipelineName="bench-noop")["PipelineExecutionArn"]
            while (
                sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
                == "Executing"
            ):
                time.sleep(0.02)
            return time.perf_counter() - started

        first = run()  # starts the warm-container zygote (imports the ML libraries once)
        warm = run()
        os.environ["BATCHOPS_LOCAL_WARM"] = "0"
        try:
            cold = run()
        finally:
            del os.environ["BATCHOPS_LOCAL_WARM"]
    floor = sum(_timed([sys.executable, "-c", "pass"]) for _ in range(steps))
    return warm / steps, cold / steps, first / steps, floor / steps


def main() -> None:
    os.environ.setdefault("BATCHOPS_CONFIG_DIR", str(ROOT / "config"))
    cli, sdk = cli_startup()
    up, bare = local_up()
    per_step, cold, first, floor = executor_overhead()
    load = os.getloadavg()[0]
    lines = [
        "# Platform: CLI, local cloud, executor",
        "",
        f"One run on {os.cpu_count()} cores (load average {load:.1f} at the end).",
        "",
        "| measure | batchops | peer | ratio | goal |",
        "|---|---|---|---|---|",
        f"| CLI start-up (`batchops --help`) | {cli:.2f} s | SDK import {sdk:.2f} s | "
        f"{cli / sdk:.2f} | < 0.5 s |",
        f"| local cloud ready (3 accounts bootstrapped) | {up:.2f} s | bare moto server "
        f"{bare:.2f} s | {up / bare:.2f} | < 10 s |",
        f"| executor time per no-op step (10 chained, warm containers) | {per_step:.3f} s | "
        f"process start {floor:.3f} s | {per_step / floor:.2f} | < 0.3 s (SageMaker: minutes) |",
        f"| the same, cold containers (`BATCHOPS_LOCAL_WARM=0`) | {cold:.3f} s | process start "
        f"{floor:.3f} s | {cold / floor:.2f} | (reference) |",
        f"| the same, first run (starts the zygote: imports the ML libraries once) | "
        f"{first:.3f} s | process start {floor:.3f} s | {first / floor:.2f} | (reference) |",
        "",
    ]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "platform.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
