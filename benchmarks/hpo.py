"""HPO benchmark: TPE (the executor's Tuning step) vs random search vs untuned, one run.

On generated Abalone-layout data, the real step code does the work: ``preprocess.py``
splits train/validation/test and fits the transform, ``train.py``'s ``fit`` trains XGBoost
with early stopping on validation. Three contenders, each over the ranges and static
hyperparameters of ``model-build/pipelines/config.yaml``:

* **TPE**: 20 trials, 2 in parallel, with the sampler and search space the local cloud's
  Tuning step builds (``executor/steps/tuning.py``); objective = validation RMSE;
* **random search**: 50 trials (Optuna's random sampler, sequential);
* **untuned**: the approved fixed hyperparameters of the same config.

Each contender's *best-on-validation* model is scored on the held-out test split (holdout
RMSE). Goal: TPE within 2% of the best-of-50-random holdout RMSE. Repeated over several
seeds (data and sampler) so one lucky draw does not decide.

Then the training pipeline end to end on the local cloud on 3,000 rows (upsert is done
before the clock starts; the clock runs from StartPipelineExecution to Succeeded). Peer:
the same pipeline on SageMaker, where each of its 5 job steps provisions an instance —
≥ 15 minutes (a reference figure, not measured here: no AWS account).

Writes ``benchmarks/results/hpo.md``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CONFIG = ROOT / "model-build" / "pipelines" / "config.yaml"
SAGEMAKER_PIPELINE_REFERENCE_S = 15 * 60


@dataclass(frozen=True)
class Outcome:
    name: str
    trials: int
    validation_rmse: float
    holdout_rmse: float
    seconds: float


def load_config() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text(encoding="utf-8"))


def sagemaker_ranges(tuning: dict[str, Any]) -> dict[str, Any]:
    """The config's ranges in the shape of the pipeline definition (``ParameterRanges``)."""
    return {
        "IntegerParameterRanges": [
            {"Name": name, "MinValue": str(lo), "MaxValue": str(hi)}
            for name, (lo, hi) in tuning.get("integer_ranges", {}).items()
        ],
        "ContinuousParameterRanges": [
            {"Name": name, "MinValue": str(lo), "MaxValue": str(hi)}
            for name, (lo, hi) in tuning.get("continuous_ranges", {}).items()
        ],
    }


def split_data(rows: int, seed: int, work: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generated data through the real preprocess step: {split: (features, rings)}."""
    from model_build.steps import preprocess

    from batchops.data.generate import generate
    from batchops.data.schema import Layout

    generated = generate(work / "raw", rows=rows, seed=seed, layouts=(Layout.TRAINING,))
    config = load_config()["split"]
    preprocess.main(
        [
            "--input-dir",
            str(generated.files[Layout.TRAINING].parent),
            "--output-dir",
            str(work / "processed"),
            "--validation-fraction",
            str(config["validation_fraction"]),
            "--test-fraction",
            str(config["test_fraction"]),
            "--seed",
            str(config["seed"]),
        ]
    )
    splits = {}
    for split in ("train", "validation", "test"):
        data = np.loadtxt(work / "processed" / split / f"{split}.csv", delimiter=",", ndmin=2)
        splits[split] = (data[:, 1:], data[:, 0])
    return splits


def train_and_score(
    hyperparameters: dict[str, str], splits: dict[str, tuple[np.ndarray, np.ndarray]]
) -> tuple[float, float]:
    """(validation RMSE, holdout RMSE) of train.py's model for these hyperparameters."""
    import xgboost as xgb
    from model_build.steps import train

    argv = [item for name, value in hyperparameters.items() for item in (f"--{name}", value)]
    booster = train.fit(train.parse(argv), splits["train"], splits["validation"], False)
    best = booster[: booster.best_iteration + 1]
    x_test, y_test = splits["test"]
    predicted = best.predict(xgb.DMatrix(x_test))
    return float(booster.best_score), float(np.sqrt(np.mean((predicted - y_test) ** 2)))


def search(
    name: str, strategy: str, trials: int, parallel: int, seed: int, splits: dict[str, Any]
) -> Outcome:
    """Optuna study with the executor's sampler and search space; best by validation RMSE."""
    import optuna

    from batchops.localcloud.executor.steps.tuning import _sampler, _suggest

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    tuning = load_config()["tuning"]
    ranges = sagemaker_ranges(tuning)
    static = {k: str(v) for k, v in tuning.get("static", {}).items()}
    holdout: dict[int, float] = {}

    def objective(trial: Any) -> float:
        validation, test = train_and_score({**static, **_suggest(trial, ranges)}, splits)
        holdout[trial.number] = test
        return validation

    study = optuna.create_study(direction="minimize", sampler=_sampler(strategy, ranges, seed))
    started = time.perf_counter()
    study.optimize(objective, n_trials=trials, n_jobs=parallel)
    seconds = time.perf_counter() - started
    best = study.best_trial
    return Outcome(name, trials, float(best.value), holdout[best.number], seconds)


def untuned(splits: dict[str, Any]) -> Outcome:
    fixed = {k: str(v) for k, v in load_config()["hyperparameters"].items()}
    started = time.perf_counter()
    validation, test = train_and_score(fixed, splits)
    return Outcome("untuned (config.yaml)", 1, validation, test, time.perf_counter() - started)


def compare(rows: int, seeds: list[int], tpe_trials: int, random_trials: int) -> list[Outcome]:
    """Per seed: TPE, random, untuned. Returns the per-contender means over seeds."""
    import optuna  # noqa: F401  imported before any clock starts
    import xgboost  # noqa: F401

    runs: dict[str, list[Outcome]] = {}
    for seed in seeds:
        with tempfile.TemporaryDirectory() as work:
            splits = split_data(rows, seed, Path(work))
        for outcome in (
            search(
                f"TPE, {tpe_trials} trials (2 parallel)", "Bayesian", tpe_trials, 2, seed, splits
            ),
            search(f"random, {random_trials} trials", "Random", random_trials, 1, seed, splits),
            untuned(splits),
        ):
            runs.setdefault(outcome.name, []).append(outcome)
            print(
                f"seed {seed} {outcome.name}: validation {outcome.validation_rmse:.4f}, "
                f"holdout {outcome.holdout_rmse:.4f}, {outcome.seconds:.1f} s",
                flush=True,
            )
    return [
        Outcome(
            name,
            items[0].trials,
            statistics.fmean(o.validation_rmse for o in items),
            statistics.fmean(o.holdout_rmse for o in items),
            statistics.fmean(o.seconds for o in items),
        )
        for name, items in runs.items()
    ]


def pipeline_end_to_end(rows: int) -> float:
    """Seconds from StartPipelineExecution to Succeeded of batchops-training on the local cloud."""
    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.data.generate import generate
    from batchops.data.schema import Layout
    from batchops.localcloud.runtime import start_local_cloud
    from batchops.pipelines import deploy as pipelines
    from batchops.pipelines.build import build
    from batchops.pipelines.project import project

    with tempfile.TemporaryDirectory() as state:
        cloud = start_local_cloud(state_dir=Path(state))
        try:
            settings = load_settings("data-science")
            clients = clients_for(settings, cloud.endpoint)
            proj = project("model-build")
            pipelines.upsert(clients, settings, build(proj, proj.spec("training"), settings))
            data = generate(Path(state) / "data", rows=rows, seed=7, layouts=(Layout.TRAINING,))
            key = f"{settings.training_data_prefix}bench/training-data.csv"
            body = data.files[Layout.TRAINING].read_bytes()
            clients.client("s3").put_object(Bucket=settings.bucket_name, Key=key, Body=body)
            started = time.perf_counter()
            arn = pipelines.start(
                clients,
                settings.pipeline_train,
                {"InputBucket": settings.bucket_name, "InputKey": key},
            )
            described = pipelines.wait(clients, arn, timeout_s=600)
            seconds = time.perf_counter() - started
            status = described["PipelineExecutionStatus"]
            if status != "Succeeded":
                raise SystemExit(
                    f"training pipeline ended {status}: {described.get('FailureReason')}"
                )
            return seconds
        finally:
            cloud.stop()


def report(outcomes: list[Outcome], seeds: list[int], rows: int, pipeline_s: float | None) -> str:
    tpe, rand, fixed = outcomes
    within = tpe.holdout_rmse / rand.holdout_rmse
    verdict = "(met)" if within <= 1.02 else "(MISSED)"
    lines = [
        "# HPO: TPE vs random search vs untuned; training pipeline end to end",
        "",
        f"One run on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f} at the end). "
        f"Generated Abalone-layout data, {rows} rows, split by `preprocess.py`; models by "
        f"`train.py` (XGBoost, early stopping); ranges from `model-build/pipelines/config.yaml`. "
        f"Means over {len(seeds)} seeds ({', '.join(map(str, seeds))}); holdout = test split.",
        "",
        "| contender | trials | validation RMSE | holdout RMSE | wall time |",
        "|---|---|---|---|---|",
        *(
            f"| {o.name} | {o.trials} | {o.validation_rmse:.4f} | {o.holdout_rmse:.4f} | "
            f"{o.seconds:.1f} s |"
            for o in outcomes
        ),
        "",
        "| measure | ours | peer | ratio | goal |",
        "|---|---|---|---|---|",
        f"| holdout RMSE, {tpe.name} | {tpe.holdout_rmse:.4f} | best of {rand.name} "
        f"{rand.holdout_rmse:.4f} | {within:.3f} | ≤ 1.02 {verdict} |",
        f"| holdout RMSE, untuned | {fixed.holdout_rmse:.4f} | best of {rand.name} "
        f"{rand.holdout_rmse:.4f} | {fixed.holdout_rmse / rand.holdout_rmse:.3f} | (reference) |",
        f"| tuning wall time, TPE | {tpe.seconds:.1f} s | {rand.name} {rand.seconds:.1f} s | "
        f"{tpe.seconds / rand.seconds:.2f} | (reference) |",
    ]
    if pipeline_s is not None:
        ok = "(met)" if pipeline_s <= 10 else "(MISSED)"
        lines.append(
            f"| training pipeline end to end, 3,000 rows, local cloud | {pipeline_s:.1f} s | "
            f"SageMaker ≥ {SAGEMAKER_PIPELINE_REFERENCE_S} s (reference, not measured) | "
            f"{pipeline_s / SAGEMAKER_PIPELINE_REFERENCE_S:.3f} | ≤ 10 s {ok} |"
        )
    lines += [
        "",
        "The SageMaker figure is a reference: 5 job steps (preprocess, QualityCheck, training,",
        "evaluate, register) each provisioning an instance take minutes apiece; no AWS account",
        "is used here. The local-cloud time includes every step's process start on a shared,",
        "loaded machine (see load average).",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4177, help="rows of generated data")
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds")
    parser.add_argument("--tpe-trials", type=int, default=20)
    parser.add_argument("--random-trials", type=int, default=50)
    parser.add_argument("--pipeline-rows", type=int, default=3000)
    parser.add_argument("--skip-pipeline", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "hpo.md")
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    outcomes = compare(args.rows, seeds, args.tpe_trials, args.random_trials)
    pipeline_s = None if args.skip_pipeline else pipeline_end_to_end(args.pipeline_rows)
    text = report(outcomes, seeds, args.rows, pipeline_s)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
