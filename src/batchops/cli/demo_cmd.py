"""``batchops demo``: the whole lifecycle on a local cloud; ``batchops report``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from batchops.cli.common import add_dataset, add_json, emit_json, use_dataset


def register(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo",
        help="run the seed article's lifecycle on a local cloud; write summary.json + report",
    )
    add_dataset(demo)
    demo.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder with training-data.csv, inference-data.csv, ground-truth.csv in the "
        "spec's layout (default: data the spec's generator draws)",
    )
    demo.add_argument("--out", type=Path, default=Path("out/demo"), help="output folder")
    demo.add_argument(
        "--endpoint", default=None, help="use a running local cloud instead of starting one"
    )
    add_json(demo)
    demo.set_defaults(func=demo_cmd)

    report = subparsers.add_parser(
        "report",
        help="redraw OUT/report.html from OUT/summary.json and the cloud's records "
        "(--endpoint: read them again from a running local cloud; else OUT/records.json)",
    )
    report.add_argument(
        "--out",
        type=Path,
        default=Path("out/demo"),
        help="the demo's output folder (summary.json, records.json; default out/demo)",
    )
    report.add_argument(
        "--endpoint",
        default=None,
        help="local cloud to read the records from (default: OUT/records.json of the demo)",
    )
    report.add_argument(
        "--force",
        action="store_true",
        help="with --endpoint: replace an existing OUT/records.json (default: refuse)",
    )
    add_json(report)
    report.set_defaults(func=report_cmd)


def _check_out(out: Path) -> None:
    from batchops.cli.common import output_folder

    output_folder(out)


def _fresh_state_dir(folder: Path) -> None:
    """The demo tells the story from an empty cloud: a previous demo's state is removed.

    (A local cloud keeps its state across restarts; the demo's folder is its own. One that
    a running local cloud holds is refused by the state-folder lock, not deleted.)
    """
    import shutil

    from batchops.localcloud.persistence import StateFolderLock

    if not folder.exists():
        return
    lock = StateFolderLock(folder)
    lock.acquire()
    try:
        shutil.rmtree(folder)
    finally:
        lock.release()


def demo_cmd(args: argparse.Namespace) -> int:
    from batchops.data.spec import current_spec
    from batchops.demo import prepare_data, run_demo
    from batchops.localcloud.runtime import start_local_cloud

    use_dataset(args)  # a bad spec stops the demo before anything starts
    spec = current_spec()
    _check_out(args.out)
    if args.data_dir is not None:  # bad data stops the demo before anything starts
        prepare_data(args.data_dir, args.out / "data", spec)
    os.environ.setdefault("BATCHOPS_BUILD_DIR", str(Path(".batchops/build").resolve()))
    say = (lambda _text: None) if args.json else (lambda text: print(text, flush=True))
    started = time.monotonic()
    cloud = None
    checked = ""
    endpoint = args.endpoint
    if endpoint is None:
        _fresh_state_dir(args.out / "local-cloud")
        # the demo's cloud checks permissions as IAM does unless told otherwise
        # (BATCHOPS_LOCAL_AUTHORIZATION=off): CI jobs, Lambdas and steps act as their roles
        authorization = os.environ.get("BATCHOPS_LOCAL_AUTHORIZATION") or "enforce"
        # wheels unpacked by content (sha256), kept across demos like the definitions
        wheel_cache = Path(os.environ["BATCHOPS_BUILD_DIR"]).parent / "wheel-cache"
        cloud = start_local_cloud(
            state_dir=args.out / "local-cloud",
            options={"authorization": authorization, "wheel_cache_dir": str(wheel_cache)},
        )
        endpoint = cloud.endpoint
        from batchops.localcloud.aws.iam.authorization import enforcing

        checked = "enforced" if enforcing(cloud) else "off"
        say(
            f"local cloud at {endpoint} (state in {args.out / 'local-cloud'}; "
            f"authorization {checked})"
        )
    try:
        summary = run_demo(endpoint, args.data_dir, args.out, say, spec)
    finally:
        if cloud is not None:
            cloud.stop()
    summary["timings_s"]["wall"] = round(time.monotonic() - started, 2)
    if checked:
        summary["authorization"] = checked
    from batchops.fs import atomic_write_text, json_default

    atomic_write_text(
        args.out / "summary.json", json.dumps(summary, indent=2, default=json_default) + "\n"
    )
    if args.json:
        emit_json(summary)
    else:
        versions = ", ".join(
            f"v{v['version']} {v['source']} {v['status']} {v['metric']} {v['value']}"
            + (f" (rmse {v['rmse']})" if "rmse" in v and v["metric"] != "rmse" else "")
            for v in summary["model_versions"]
        )
        print(f"model versions: {versions}")
        print(
            f"done in {summary['timings_s']['wall']:.1f}s — report: "
            f"{args.out / 'report.html'}, summary: {args.out / 'summary.json'}"
        )
    return 0


def report_cmd(args: argparse.Namespace) -> int:
    from batchops.cli.common import read_json_file
    from batchops.errors import ConfigError
    from batchops.report import write_report

    path = args.out / "summary.json"
    if not path.is_file():
        raise ConfigError(f"{path} not found: run `batchops demo --out {args.out}` first")
    saved = args.out / "records.json"
    summary = read_json_file(path)
    if args.endpoint:
        from batchops.fs import atomic_write_text, json_default
        from batchops.records import collect

        if saved.exists() and not args.force:
            raise ConfigError(
                f"{saved} exists: pass --force to replace it with the records of "
                f"{args.endpoint} (it is what the report of the finished demo was drawn from)"
            )
        records = collect(args.endpoint)
        atomic_write_text(saved, json.dumps(records, indent=1, default=json_default) + "\n")
    elif saved.is_file():
        records = read_json_file(saved)
    else:
        records = None
        print(f"{saved} not found: the report shows the summary only", file=sys.stderr)
    write_report(summary, args.out / "report.html", records)
    if args.json:
        emit_json({"report": str(args.out / "report.html"), "records": records is not None})
    else:
        print(args.out / "report.html", file=sys.stdout)
    return 0
