"""``batchops monitor``: Model-Monitor-compatible data-quality and model-quality checks.

The same engine the local cloud runs for QualityCheck steps, on local files, so a data
scientist can baseline a training set, check a new batch, or score predictions against
ground truth before anything reaches a pipeline. Violations are findings, not errors:
``check`` exits 0 and prints them unless ``--fail-on-violation`` is given (exit 8);
``model-quality`` fails (exit 8) on a violation, as the inference pipeline's step does.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from batchops.cli.common import add_json, emit_json, print_table

#: Exit status for "ran fine, found violations" (same as the analyzer's container entry).
VIOLATIONS_EXIT_CODE = 8


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "monitor", help="data-quality baselines/checks and model quality (Model Monitor files)"
    )
    commands = parser.add_subparsers(dest="monitor_command", metavar="ACTION")
    _register_baseline(commands)
    _register_check(commands)
    _register_model_quality(commands)


def _register_baseline(commands: argparse._SubParsersAction) -> None:
    base = commands.add_parser(
        "baseline",
        help="write statistics.json and suggested constraints.json of a dataset",
        description="Profile a dataset (file or folder of CSV/Parquet/JSON Lines parts) in "
        "one streaming pass and write Model Monitor's statistics.json and constraints.json.",
    )
    _add_data_args(base)
    base.add_argument("--out", type=Path, required=True, help="output folder")
    base.add_argument(
        "--categorical-drift-method",
        choices=["LInfinity", "ChiSquared"],
        default="LInfinity",
        help="drift method written into constraints.json (default LInfinity)",
    )
    add_json(base)
    base.set_defaults(func=baseline_cmd)


def _register_check(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="check a batch against a baseline; write constraint_violations.json",
        description="Check a batch against a baseline folder (statistics.json + "
        "constraints.json, ours or AWS's) and write the batch's statistics.json and "
        "constraint_violations.json. Exit 0 with the violations printed, or 8 with "
        "--fail-on-violation.",
    )
    _add_data_args(check)
    check.add_argument(
        "--baseline", type=Path, required=True, help="folder with statistics.json, constraints.json"
    )
    check.add_argument("--out", type=Path, required=True, help="output folder")
    check.add_argument(
        "--fail-on-violation", action="store_true", help="exit 8 when a violation is found"
    )
    add_json(check)
    check.set_defaults(func=check_cmd)


def _register_model_quality(commands: argparse._SubParsersAction) -> None:
    mq = commands.add_parser(
        "model-quality",
        help="regression metrics (mse, rmse, mae, r2) of predictions vs ground truth",
        description="Join predictions and ground truth by row, compute Model Monitor's "
        "regression metrics and check METRIC against --threshold (a violation when the "
        "metric is greater, or lower for r2). Exit 8 on a violation.",
    )
    mq.add_argument("--predictions", type=Path, required=True, help="CSV file or folder")
    mq.add_argument("--ground-truth", type=Path, required=True, help="CSV file or folder")
    mq.add_argument("--threshold", type=float, required=True, help="e.g. accuracy_mse_threshold")
    mq.add_argument(
        "--metric",
        choices=["mse", "rmse", "mae", "r2"],
        default="mse",
        help="the metric compared with --threshold (default mse)",
    )
    mq.add_argument(
        "--prediction-column", default=None, help="name or 0-based index (default: last column)"
    )
    mq.add_argument(
        "--ground-truth-column", default=None, help="name or 0-based index (default: last column)"
    )
    mq.add_argument("--header", action="store_true", help="the CSV files have a header row")
    mq.add_argument("--out", type=Path, required=True, help="output folder")
    add_json(mq)
    mq.set_defaults(func=model_quality_cmd)


def _add_data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", type=Path, required=True, help="data file or folder")
    parser.add_argument(
        "--format",
        choices=["csv", "parquet", "json"],
        default="csv",
        help="data format (default csv; json = JSON Lines)",
    )
    parser.add_argument(
        "--header", action="store_true", help="CSV has a header row (default: _c0, _c1, ...)"
    )


def _dataset_format(args: argparse.Namespace) -> Any:
    from batchops.monitor.reader import DatasetFormat

    options: dict[str, Any] = {"header": args.header} if args.format == "csv" else {}
    return DatasetFormat.parse(json.dumps({args.format: options}))


def baseline_cmd(args: argparse.Namespace) -> int:
    from batchops.cli.common import progress
    from batchops.monitor.dataquality import suggest_baseline

    with progress(f"profiling {args.data}", quiet=args.json):
        result = suggest_baseline(
            args.data,
            args.out,
            _dataset_format(args),
            categorical_drift_method=args.categorical_drift_method,
        )
    files = {key: str(path) for key, path in result.files.items()}
    if args.json:
        emit_json({"item_count": result.item_count, "features": result.features, "files": files})
        return 0
    print(f"{result.item_count} rows, {len(result.features)} features")
    for note in result.notes:
        print(f"note: {note}")
    for path in files.values():
        print(f"wrote {path}")
    return 0


def check_cmd(args: argparse.Namespace) -> int:
    from batchops.monitor.dataquality import baseline_files, check_dataset

    constraints, statistics = baseline_files(args.baseline)
    result = check_dataset(args.data, args.out, constraints, statistics, _dataset_format(args))
    violations = [v.to_json() for v in result.violations]
    if args.json:
        emit_json(
            {
                "item_count": result.item_count,
                "violations": violations,
                "files": {key: str(path) for key, path in result.files.items()},
            }
        )
    else:
        print(f"{result.item_count} rows checked: {len(violations)} violation(s)")
        if violations:
            print_table(violations, ["feature_name", "constraint_check_type", "description"])
        print(f"wrote {result.files['constraint_violations']}")
    return VIOLATIONS_EXIT_CODE if violations and args.fail_on_violation else 0


def model_quality_cmd(args: argparse.Namespace) -> int:
    from batchops.monitor.model_quality import evaluate_model_quality

    result = evaluate_model_quality(
        args.predictions,
        args.ground_truth,
        args.threshold,
        args.out,
        prediction_column=args.prediction_column,
        ground_truth_column=args.ground_truth_column,
        header=args.header,
        metric=args.metric,
    )
    metrics = result.metrics
    if args.json:
        emit_json(
            {
                "item_count": metrics.count,
                "metrics": metrics.values,
                "passed": result.passed,
                "violations": list(result.violations),
                "files": {key: str(path) for key, path in result.files.items()},
            }
        )
    else:
        rows = [{"metric": m, "value": f"{v:.6g}"} for m, v in metrics.values.items()]
        print_table(rows, ["metric", "value"], title=f"model quality on {metrics.count} rows")
        for violation in result.violations:
            print(f"violation: {violation['description']}")
        report = result.files["constraint_violations"]
        verdict = (
            f"failed: {len(result.violations)} violation(s)" if result.violations else "passed"
        )
        print(f"{verdict}; wrote {report}")
    return 0 if result.passed else VIOLATIONS_EXIT_CODE
