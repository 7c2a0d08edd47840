"""``batchops data``: generate, validate and upload files in the article's layout."""

from __future__ import annotations

import argparse
from pathlib import Path

from batchops.cli.common import (
    add_dataset,
    add_endpoint,
    add_env,
    add_json,
    clients_from,
    emit_json,
    print_table,
    settings_from,
    use_dataset,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("data", help="generate, validate and upload data files")
    commands = parser.add_subparsers(dest="data_command", metavar="ACTION")

    gen = commands.add_parser(
        "generate",
        help="write training-data.csv, inference-data.csv and ground-truth.csv (seeded)",
        description="Write realistic synthetic data for the dataset spec (default: Abalone). "
        "Drift is a comma-separated list: COLUMN*FACTOR, COLUMN+SHIFT, COLUMN:missing=FRACTION, "
        "COLUMN:invalid=FRACTION, COLUMN:flip=FRACTION (categorical: to the next category), "
        "COLUMN:unseen=FRACTION (a category training never saw), e.g. 'height*1.6,rings+4'; "
        "it applies to the inference batch and its ground truth.",
    )
    add_dataset(gen)
    gen.add_argument("--rows", type=int, default=3000, help="training rows (default 3000)")
    gen.add_argument(
        "--inference-rows", type=int, default=None, help="inference rows (default rows/3)"
    )
    gen.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    gen.add_argument("--drift", default=None, metavar="OPS", help="drift to inject")
    gen.add_argument("--out", type=Path, required=True, help="output folder")
    add_json(gen)
    gen.set_defaults(func=generate_cmd)

    val = commands.add_parser(
        "validate",
        help="check files of the article's layout; report file:line:column of problems",
    )
    val.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    val.add_argument(
        "--layout",
        choices=["training", "inference", "ground-truth"],
        default=None,
        help="layout of the files (default: from the file name)",
    )
    val.add_argument("--max-problems", type=int, default=10, help="stop after N problems per file")
    add_dataset(val)
    add_json(val)
    val.set_defaults(func=validate_cmd)

    up = commands.add_parser(
        "upload",
        help="upload files to the environment's bucket, where the triggers expect them",
    )
    add_env(up)
    add_endpoint(up)
    group = up.add_mutually_exclusive_group(required=True)
    group.add_argument("--training", type=Path, metavar="FILE", help="training-data.csv")
    group.add_argument("--inference", type=Path, metavar="FILE", help="inference-data.csv")
    up.add_argument(
        "--ground-truth", type=Path, metavar="FILE", help="ground-truth.csv of the batch"
    )
    up.add_argument("--batch-id", default=None, help="folder name of the batch (default: UTC time)")
    add_dataset(up)
    add_json(up)
    up.set_defaults(func=upload_cmd)

    from batchops.data.examples import EXAMPLES

    ex = commands.add_parser(
        "example",
        help="write a shipped example's CSVs (examples/datasets/NAME) in the article's layout",
        description="Write the three CSVs of a shipped example: "
        + "; ".join(f"{e.name}: {e.description}" for e in EXAMPLES.values())
        + ". Its spec is examples/datasets/NAME/dataset.yaml.",
    )
    ex.add_argument("name", choices=sorted(EXAMPLES), metavar="NAME", help=", ".join(EXAMPLES))
    ex.add_argument("--out", type=Path, required=True, help="output folder")
    ex.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    ex.add_argument(
        "--inference", type=float, default=0.3, help="share of rows in the batch (default 0.3)"
    )
    add_json(ex)
    ex.set_defaults(func=example_cmd)


def generate_cmd(args: argparse.Namespace) -> int:
    from batchops.data.generate import generate
    from batchops.data.spec import current_spec

    use_dataset(args)
    spec = current_spec()
    result = generate(
        args.out,
        rows=args.rows,
        seed=args.seed,
        inference_rows=args.inference_rows,
        drift=args.drift,
        spec=spec,
    )
    rows = [
        {"file": str(path), "rows": result.rows[layout], "columns": len(layout.columns(spec))}
        for layout, path in result.files.items()
    ]
    if args.json:
        emit_json(
            {"files": rows, "seed": args.seed, "drift": [op.describe() for op in result.drift]}
        )
    else:
        print_table(rows, ["file", "rows", "columns"])
        if result.drift:
            print(
                "drift applied to the inference batch: "
                + ", ".join(op.describe() for op in result.drift)
            )
    return 0


def validate_cmd(args: argparse.Namespace) -> int:
    from batchops.data.schema import Layout
    from batchops.data.validate import validate_dataset, validate_file

    use_dataset(args)
    layout = Layout(args.layout) if args.layout else None
    reports = []
    for path in args.paths:
        if path.is_dir():
            reports.extend(validate_dataset(path, max_problems=args.max_problems))
        else:
            reports.append(validate_file(path, layout, max_problems=args.max_problems))
    if args.json:
        emit_json(
            [
                {
                    "file": str(r.path),
                    "layout": r.layout.value,
                    "rows": r.rows,
                    "ok": r.ok,
                    "problems": [
                        {"line": p.line, "column": p.column, "message": p.message}
                        for p in r.problems
                    ],
                    "truncated": r.truncated,
                    "notes": r.notes,
                }
                for r in reports
            ]
        )
    else:
        for report in reports:
            if report.ok:
                print(f"ok    {report.path} ({report.layout.value}, {report.rows} rows)")
            for problem in report.problems:
                print(f"error {problem}")
            for note, count in report.notes.items():
                print(f"note  {report.path}: {note} ({count} rows)")
            if report.truncated:
                print(f"      {report.path}: stopped after {len(report.problems)} problems")
    return 0 if all(r.ok for r in reports) else 1


def upload_cmd(args: argparse.Namespace) -> int:
    from batchops.data.schema import Layout
    from batchops.data.upload import upload_files

    use_dataset(args)
    settings = settings_from(args)
    files = {}
    if args.training:
        files[Layout.TRAINING] = args.training
    if args.inference:
        files[Layout.INFERENCE] = args.inference
    if args.ground_truth:
        files[Layout.GROUND_TRUTH] = args.ground_truth
    uploaded = upload_files(settings, clients_from(args, settings), files, batch_id=args.batch_id)
    rows = [{"layout": u.layout.value, "rows": u.rows, "uri": u.uri} for u in uploaded]
    if args.json:
        emit_json(rows)
    else:
        print_table(rows, ["layout", "rows", "uri"])
    return 0


def example_cmd(args: argparse.Namespace) -> int:
    from batchops.data.examples import example, write_example

    written = write_example(args.name, args.out, seed=args.seed, inference=args.inference)
    rows = [{"file": str(path), "rows": count} for path, count in written.values()]
    spec = str(example(args.name).spec_path)
    if args.json:
        emit_json({"files": rows, "spec": spec})
    else:
        print_table(rows, ["file", "rows"])
        print(f"spec: {spec}  (run: batchops demo --dataset {spec} --data-dir {args.out})")
    return 0
