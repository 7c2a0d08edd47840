"""Tuning steps: the definition's search space and budget, searched with Optuna.

``Bayesian`` uses Optuna's TPE sampler, ``Random`` its random sampler, ``Grid`` a grid over
categorical/integer ranges. ``MaxNumberOfTrainingJobs`` trials run, at most
``MaxParallelTrainingJobs`` at a time (and never more than the local cloud's
``max_parallel_trials``, 2 on a 2-core laptop). Each trial is a full training job (its own
``/opt/ml``, model artefact under ``<S3OutputPath>/<trial job>/output/model.tar.gz``); the
objective is the metric the definition names, parsed from the trial's log by the metric
regex. Each training job runs the definition's ``ResourceConfig.InstanceCount`` instances
(a tuning job launches its training jobs from ``TrainingJobDefinition``, resources
included), so fewer trials run at once when their instances would exceed what the machine
runs (``max_parallel_instances``): ``parallel x InstanceCount`` stays within it, and a
single trial's extra instances queue. ``TrainingJobSummaries`` is sorted best first, like
AWS's listing sorted by ``FinalObjectiveMetricValue``, so ``TrainingJobSummaries[0]`` is the
best model.
"""

from __future__ import annotations

import math
import secrets
import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from batchops.localcloud.executor.context import StepContext, StepFailed, StepOutcome, StepStopped
from batchops.localcloud.executor.steps._job import instance_limit
from batchops.localcloud.executor.steps.training import (
    TrainingResult,
    run_training_job,
    training_instance_count,
)


def _suggest(trial: Any, ranges: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for spec in ranges.get("IntegerParameterRanges") or []:
        low, high = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        log = spec.get("ScalingType") == "Logarithmic" and low > 0
        values[spec["Name"]] = str(trial.suggest_int(spec["Name"], low, high, log=log))
    for spec in ranges.get("ContinuousParameterRanges") or []:
        lo, hi = float(spec["MinValue"]), float(spec["MaxValue"])
        log = spec.get("ScalingType") == "Logarithmic" and lo > 0
        values[spec["Name"]] = repr(trial.suggest_float(spec["Name"], lo, hi, log=log))
    for spec in ranges.get("CategoricalParameterRanges") or []:
        values[spec["Name"]] = str(trial.suggest_categorical(spec["Name"], list(spec["Values"])))
    return values


def _sampler(strategy: str, ranges: dict[str, Any], seed: int | None) -> Any:
    import optuna

    if strategy == "Random":
        return optuna.samplers.RandomSampler(seed=seed)
    if strategy == "Grid":
        space: dict[str, list[Any]] = {}
        for spec in ranges.get("IntegerParameterRanges") or []:
            space[spec["Name"]] = list(range(int(spec["MinValue"]), int(spec["MaxValue"]) + 1))
        for spec in ranges.get("CategoricalParameterRanges") or []:
            space[spec["Name"]] = list(spec["Values"])
        if ranges.get("ContinuousParameterRanges"):
            raise StepFailed("ClientError: Grid strategy does not accept continuous ranges")
        return optuna.samplers.GridSampler(space, seed=seed)
    if strategy not in ("Bayesian", "Hyperband"):
        raise StepFailed(f"ClientError: unknown tuning strategy {strategy!r}")
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=4, multivariate=True)


def run_tuning(ctx: StepContext, args: dict[str, Any]) -> StepOutcome:  # noqa: PLR0915
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    config = args.get("HyperParameterTuningJobConfig") or {}
    definition = args.get("TrainingJobDefinition") or {}
    if not definition:
        raise StepFailed(
            "ClientError: multi-definition tuning (TrainingJobDefinitions) is not supported"
        )
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric = objective.get("MetricName")
    if not metric:
        raise StepFailed("ClientError: the tuning objective names no metric")
    minimize = objective.get("Type", "Minimize") == "Minimize"
    limits = config.get("ResourceLimits") or {}
    budget = int(limits.get("MaxNumberOfTrainingJobs", 1))
    parallel = max(
        1,
        min(
            int(limits.get("MaxParallelTrainingJobs", 1)),
            int(ctx.options.get("max_parallel_trials", 2)),
        ),
    )
    instances = training_instance_count(definition)
    parallel = max(1, min(parallel, instance_limit(ctx) // instances))
    ranges = config.get("ParameterRanges") or {}
    seed = ctx.options.get("tuning_seed")
    study = optuna.create_study(
        direction="minimize" if minimize else "maximize",
        sampler=_sampler(config.get("Strategy", "Bayesian"), ranges, seed),
    )
    tuning_job = f"tune-{ctx.execution_id[:12]}-{secrets.token_hex(3)}"[:32]
    static = {str(k): str(v) for k, v in (definition.get("StaticHyperParameters") or {}).items()}
    results: list[tuple[TrainingResult, float]] = []
    failures: list[str] = []
    lock = threading.Lock()
    ctx.log(
        f"tuning job {tuning_job}: {budget} trials, {parallel} in parallel, "
        f"{instances} instance(s) each, objective {metric}"
    )

    def trial_job(number: int, trial: Any) -> None:
        tuned = _suggest(trial, ranges)
        job = f"{tuning_job}-{number + 1:03d}-{secrets.token_hex(2)}"
        root = ctx.workspace / "trials" / job
        root.mkdir(parents=True)
        try:
            result = run_training_job(
                ctx,
                definition,
                {**static, **tuned},
                job_name=job,
                root=root,
                log_path=root / "log.txt",
            )
        except StepFailed as exc:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            with lock:
                failures.append(f"{job}: {exc.reason}")
            ctx.log(f"trial {job} failed: {exc.reason}")
            return
        value = result.metrics.get(metric)
        if value is None or math.isnan(value):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            with lock:
                failures.append(f"{job}: metric {metric!r} not found in the training log")
            ctx.log(f"trial {job}: no value for {metric}")
            return
        study.tell(trial, value)
        result.hyperparameters = tuned
        with lock:
            results.append((result, value))
        ctx.log(f"trial {job}: {metric}={value:.5g} with {tuned}")

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="trial") as pool:
        running: set[Future[None]] = set()
        for number in range(budget):
            if ctx.stop_event.is_set():
                break
            while len(running) >= parallel:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    _reraise(future)
            running.add(pool.submit(trial_job, number, study.ask()))
        for future in running:
            _reraise(future)
    if ctx.stop_event.is_set():
        raise StepStopped()
    if not results:
        raise StepFailed(
            f"ClientError: all {budget} training jobs of {tuning_job} failed; "
            f"first: {failures[0] if failures else '?'}"
        )
    results.sort(key=lambda item: item[1], reverse=not minimize)
    summaries = [_summary(ctx, result, value, metric) for result, value in results]
    properties = {
        **args,
        "HyperParameterTuningJobName": tuning_job,
        "HyperParameterTuningJobArn": ctx.arn("hyper-parameter-tuning-job", tuning_job),
        "HyperParameterTuningJobStatus": "Completed",
        "BestTrainingJob": summaries[0],
        "TrainingJobSummaries": summaries,
        "TrainingJobStatusCounters": {
            "Completed": len(results),
            "NonRetryableError": len(failures),
        },
        "ObjectiveStatusCounters": {"Succeeded": len(results), "Failed": len(failures)},
    }
    best = results[0]
    ctx.log(f"best trial {best[0].job_name}: {metric}={best[1]:.5g}")
    return StepOutcome(
        properties=properties,
        metadata={"TuningJob": {"Arn": properties["HyperParameterTuningJobArn"]}},
    )


def _reraise(future: Future[None]) -> None:
    error = future.exception()
    if isinstance(error, StepStopped):
        return
    if error is not None:
        raise error


def _summary(ctx: StepContext, result: TrainingResult, value: float, metric: str) -> dict[str, Any]:
    return {
        "TrainingJobName": result.job_name,
        "TrainingJobArn": ctx.arn("training-job", result.job_name),
        "TrainingJobStatus": "Completed",
        "TunedHyperParameters": result.hyperparameters,
        "FinalHyperParameterTuningJobObjectiveMetric": {"MetricName": metric, "Value": value},
        "ObjectiveStatus": "Succeeded",
        "ModelArtifacts": {"S3ModelArtifacts": result.model_uri},
    }
