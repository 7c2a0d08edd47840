"""Step runners by step type."""

from __future__ import annotations

from typing import Any

from batchops.localcloud.executor.context import StepContext, StepOutcome


def dispatch(
    step_type: str, ctx: StepContext, args: dict[str, Any], raw: dict[str, Any]
) -> StepOutcome:
    if step_type == "Processing":
        from batchops.localcloud.executor.steps.processing import run_processing

        return run_processing(ctx, args)
    if step_type == "Training":
        from batchops.localcloud.executor.steps.training import run_training

        return run_training(ctx, args)
    if step_type == "Tuning":
        from batchops.localcloud.executor.steps.tuning import run_tuning

        return run_tuning(ctx, args)
    if step_type == "QualityCheck":
        from batchops.localcloud.executor.steps.quality import run_quality_check

        return run_quality_check(ctx, args, raw)
    if step_type == "Transform":
        from batchops.localcloud.executor.steps.transform import run_transform

        return run_transform(ctx, args)
    if step_type in ("Model", "CreateModel"):
        from batchops.localcloud.executor.steps.registry import run_model

        return run_model(ctx, args)
    if step_type == "RegisterModel":
        from batchops.localcloud.executor.steps.registry import run_register

        return run_register(ctx, args)
    raise ValueError(f"no runner for step type {step_type!r}")  # parse_definition rejects these
