"""``batchops pipelines``: build, upsert, start and follow SageMaker pipelines."""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from batchops.cli.common import (
    add_endpoint,
    add_env,
    add_json,
    clients_from,
    emit_json,
    print_table,
    settings_from,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("pipelines", help="build, upsert, start and follow pipelines")
    commands = parser.add_subparsers(dest="pipelines_command", metavar="ACTION")

    ls = commands.add_parser("list", help="pipelines the installed projects define")
    add_json(ls)
    ls.set_defaults(func=list_cmd)

    build = commands.add_parser(
        "build",
        help="generate definition JSON with the SDK (cached by content) and print its path",
    )
    build.add_argument("--project", required=True, help="model-build or model-deploy")
    add_env(build)
    build.add_argument("--force", action="store_true", help="regenerate even if cached")
    build.add_argument("--out", type=Path, default=None, help="also copy definitions here")
    add_json(build)
    build.set_defaults(func=build_cmd)

    up = commands.add_parser(
        "upsert",
        help="create or update the project's pipelines in an environment (idempotent)",
    )
    up.add_argument("--project", required=True, help="model-build or model-deploy")
    add_env(up)
    add_endpoint(up)
    up.add_argument(
        "--recreate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="delete and recreate (default: the recreate_pipelines setting)",
    )
    up.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a parameter default in the stored definition (e.g. ModelPackageArn=...)",
    )
    add_json(up)
    up.set_defaults(func=upsert_cmd)

    golden = commands.add_parser(
        "golden-check",
        help="compare the generated definitions with the committed golden copies",
    )
    golden.add_argument("--project", required=True, help="model-build or model-deploy")
    golden.add_argument("--update", action="store_true", help="rewrite the golden copies")
    add_json(golden)
    golden.set_defaults(func=golden_cmd)

    delete = commands.add_parser("delete", help="delete the project's pipelines in an environment")
    delete.add_argument("--project", required=True, help="model-build or model-deploy")
    add_env(delete)
    add_endpoint(delete)
    add_json(delete)
    delete.set_defaults(func=delete_cmd)

    st = commands.add_parser("start", help="start an execution; --wait to follow it")
    st.add_argument("pipeline", help="training, hpo or inference")
    add_env(st)
    add_endpoint(st)
    st.add_argument(
        "--input",
        default=None,
        metavar="S3_URI",
        help="data to process: s3://bucket/key (training: a file or prefix; inference: a batch "
        "folder or a file in it). Inference without it: the newest batch not yet scored "
        "(following the run its upload started)",
    )
    st.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a pipeline parameter for this run (repeatable)",
    )
    st.add_argument("--wait", action="store_true", help="wait for the end; exit 7 if the run fails")
    st.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait (3600)")
    add_json(st)
    st.set_defaults(func=start_cmd)

    _register_follow(commands)


def _register_follow(commands: argparse._SubParsersAction) -> None:
    for name, text in (
        ("status", "an execution's status and steps"),
        ("steps", "the steps of an execution (same as status)"),
    ):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("target", help="execution ARN, or a pipeline key for its latest run")
        add_env(sub)
        add_endpoint(sub)
        add_json(sub)
        sub.add_argument(
            "--logs",
            type=int,
            default=20 if name == "steps" else 0,
            metavar="N",
            help="on the local cloud, also print the last N lines of each step's log",
        )
        sub.set_defaults(func=status_cmd)


def _params(pairs: list[str]) -> dict[str, str]:
    from batchops.errors import ConfigError

    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--param {pair!r}: expected NAME=VALUE")
        values[name] = value
    return values


def list_cmd(args: argparse.Namespace) -> int:
    from batchops.pipelines.project import projects

    rows = [
        {
            "project": p.name,
            "pipeline": s.key,
            "setting": s.name_setting,
            "environments": ",".join(s.environments),
            "description": s.description,
        }
        for p in projects().values()
        for s in p.pipelines
    ]
    if args.json:
        emit_json(rows)
    else:
        print_table(rows, ["project", "pipeline", "setting", "environments", "description"])
    return 0


def build_all(project_name: str, env: str, *, force: bool = False) -> list[Any]:
    from batchops.config import load_settings
    from batchops.errors import ConfigError
    from batchops.pipelines.build import build
    from batchops.pipelines.project import project

    settings = load_settings(env)
    proj = project(project_name)
    specs = proj.for_environment(env)
    if not specs:
        raise ConfigError(f"project {project_name} deploys no pipeline to {env}")
    return [build(proj, spec, settings, force=force) for spec in specs]


def build_cmd(args: argparse.Namespace) -> int:
    from batchops.cli.common import progress
    from batchops.fs import atomic_write_text

    with progress(f"building the {args.project} definitions for {args.env}", quiet=args.json):
        built = build_all(args.project, args.env, force=args.force)
    rows = []
    for item in built:
        if args.out:
            atomic_write_text(
                args.out / f"{item.pipeline_name}.json",
                json.dumps(item.definition, indent=2) + "\n",
            )
        rows.append(
            {
                "pipeline": item.pipeline_name,
                "cached": item.cached,
                "steps": len(item.definition.get("Steps", [])),
                "definition": str(item.folder / "definition.json"),
            }
        )
    if args.json:
        emit_json(rows)
    else:
        print_table(rows, ["pipeline", "cached", "steps", "definition"])
    return 0


def upsert_cmd(args: argparse.Namespace) -> int:
    from batchops.cli.common import progress
    from batchops.pipelines.build import stamp
    from batchops.pipelines.deploy import upsert

    settings = settings_from(args)
    clients = clients_from(args, settings)
    overrides = _params(args.param)
    rows = []
    with progress(f"building the {args.project} definitions for {args.env}", quiet=args.json):
        built = build_all(args.project, args.env)
    for item in built:
        stamp(item.definition, overrides)
        done = upsert(clients, settings, item, recreate=args.recreate)
        rows.append(
            {
                "pipeline": done.pipeline_name,
                "action": done.action,
                "assets_uploaded": done.assets_uploaded,
                "arn": done.pipeline_arn,
            }
        )
    if args.json:
        emit_json(rows)
    else:
        print_table(rows, ["pipeline", "action", "assets_uploaded", "arn"])
    return 0


def _input_parameters(uri: str | None) -> dict[str, str]:
    from batchops.errors import ConfigError

    if uri is None:
        return {}
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ConfigError(f"--input {uri!r}: expected s3://bucket/key")
    bucket, _, key = uri[5:].partition("/")
    return {"InputBucket": bucket, "InputKey": key}


def start_cmd(args: argparse.Namespace) -> int:
    from batchops.pipelines import deploy
    from batchops.pipelines.project import find_pipeline

    settings = settings_from(args)
    _project, spec = find_pipeline(args.pipeline, args.env)
    clients = clients_from(args, settings)
    parameters = {**_input_parameters(args.input), **_params(args.param)}
    name = spec.pipeline_name(settings)
    if spec.key == "inference":
        from batchops.deploy import require_pinned_approved

        require_pinned_approved(clients, settings, parameters)
    arn = None
    if spec.key == "inference" and "InputKey" not in parameters:
        arn = _run_of_newest_batch(clients, settings, name)
    if arn is None:
        arn = deploy.start(clients, name, parameters)
        if not args.json:
            print(f"started {name}: {arn}", file=sys.stderr)
    if not args.wait:
        if args.json:
            emit_json({"pipeline": name, "arn": arn, "status": "Executing"})
        return 0
    from batchops.cli.common import progress

    with progress(f"waiting for {name}", quiet=args.json) as shown:

        def step_done(step: dict[str, Any]) -> None:
            reason = step.get("FailureReason")
            line = f"  {step.get('StepStatus', '?'):<10} {step['StepName']}"
            shown.line(line + (f": {reason}" if reason else ""))
            shown.update(f"waiting for {name}: {step['StepName']} {step.get('StepStatus')}")

        described = deploy.wait(
            clients, arn, timeout_s=args.timeout, on_step=None if args.json else step_done
        )
    result = _summary(clients, described)
    if args.json:
        emit_json(result)
    else:
        print(
            f"{result['status']}: {name}"
            + (f" ({result['failure_reason']})" if result.get("failure_reason") else "")
        )
    from batchops.errors import PipelineError

    return 0 if result["status"] == "Succeeded" else PipelineError.exit_code


def _run_of_newest_batch(clients: Any, settings: Any, pipeline: str) -> str | None:
    """The execution already scoring the newest batch (the one its upload's event
    started), so a manual start right after an upload follows it instead of starting a
    run that would find nothing left to score; None when the batch awaits a run."""
    from batchops import batches
    from batchops.errors import PipelineError

    s3, sm = clients.client("s3"), clients.client("sagemaker")
    prefix = settings.inference_data_prefix
    listed = batches.batches(s3, settings.bucket_name, prefix)
    if not listed:
        raise PipelineError(
            f"no inference batch under s3://{settings.bucket_name}/{prefix}: upload one with "
            f"`batchops data upload --env {settings.environment} --inference FILE`"
        )
    newest = max(listed, key=lambda folder: (listed[folder], folder))
    summaries = sm.list_pipeline_executions(
        PipelineName=pipeline, SortBy="CreationTime", SortOrder="Descending", MaxResults=20
    ).get("PipelineExecutionSummaries", [])
    for summary in summaries:
        if summary["PipelineExecutionStatus"] in ("Failed", "Stopped"):
            continue
        arn = summary["PipelineExecutionArn"]
        values = {
            p["Name"]: p["Value"]
            for p in sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=arn).get(
                "PipelineParameters", []
            )
        }
        key = values.get("InputKey")
        if key is not None and batches.batch_folder(key, prefix) == newest:
            print(f"following {arn}: it scores the newest batch s3://{settings.bucket_name}/"
                  f"{newest}", file=sys.stderr)  # fmt: skip
            return str(arn)
    return None


def _summary(clients: Any, described: dict[str, Any]) -> dict[str, Any]:
    from batchops.pipelines import deploy

    arn = described["PipelineExecutionArn"]
    steps = deploy.steps(clients, arn)
    return {
        "pipeline": described.get("PipelineArn", "").rsplit("/", 1)[-1],
        "arn": arn,
        "status": described["PipelineExecutionStatus"],
        "failure_reason": described.get("FailureReason"),
        "started": described.get("CreationTime"),
        "ended": described.get("LastModifiedTime"),
        "steps": [
            {
                "name": s["StepName"],
                "status": s.get("StepStatus"),
                "failure_reason": s.get("FailureReason"),
                "metadata": s.get("Metadata", {}),
            }
            for s in sorted(steps, key=lambda s: str(s.get("StartTime")))
        ],
    }


def status_cmd(args: argparse.Namespace) -> int:
    from batchops.errors import PipelineError
    from batchops.pipelines import deploy
    from batchops.pipelines.project import find_pipeline

    settings = settings_from(args)
    clients = clients_from(args, settings)
    arn = args.target
    if not arn.startswith("arn:"):
        _project, spec = find_pipeline(arn, args.env)
        latest = deploy.latest_execution(clients, spec.pipeline_name(settings))
        if latest is None:
            raise PipelineError(f"{spec.pipeline_name(settings)} has no execution yet")
        arn = latest
    result = _summary(clients, deploy.describe(clients, arn))
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['pipeline']}: {result['status']}  {arn}")
    if result.get("failure_reason"):
        print(f"  reason: {result['failure_reason']}")
    print_table(
        [
            {"step": s["name"], "status": s["status"], "reason": s["failure_reason"] or ""}
            for s in result["steps"]
        ],
        ["step", "status", "reason"],
    )
    if getattr(args, "logs", 0) and clients.endpoint:
        _print_logs(clients.endpoint, arn, args.logs)
    return 0


def _print_logs(endpoint: str, arn: str, lines: int) -> None:
    """Tails of the step logs the local cloud keeps per execution (on AWS: CloudWatch)."""
    import urllib.request

    with urllib.request.urlopen(f"{endpoint}/_batchops/executions", timeout=10) as response:
        records = json.load(response)
    record = next((r for r in records if r.get("arn") == arn), None)
    if record is None:
        return
    for name, step in record.get("steps", {}).items():
        path = Path(step.get("log_path") or "")
        if not path.is_file():
            continue
        tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
        print(f"\n--- {name} ({path})")
        print("\n".join(tail))


def golden_cmd(args: argparse.Namespace) -> int:
    from batchops.config import load_settings
    from batchops.pipelines.build import build, check_golden
    from batchops.pipelines.data_quality import ENGINES
    from batchops.pipelines.project import project

    proj = project(args.project)
    failures = 0
    results = []
    for spec in proj.pipelines:
        env = spec.environments[0]
        for engine in ENGINES:  # one golden copy per data-quality engine
            settings = load_settings(env).model_copy(update={"data_quality_engine": engine})
            built = build(proj, spec, settings)
            golden = proj.golden_path(spec, env, "" if engine == ENGINES[0] else engine)
            problem = check_golden(built, golden, update=args.update)
            results.append(
                {
                    "pipeline": spec.key,
                    "env": env,
                    "engine": engine,
                    "golden": str(golden),
                    "differs": bool(problem),
                    "difference": problem or None,
                }
            )
            if not args.json:
                print(f"{'DIFFERS' if problem else 'ok':7} {spec.key} ({env}, {engine}) {golden}")
                if problem:
                    print(problem)
            if problem:
                failures += 1
    if args.json:
        emit_json(results)
    if failures:
        print(
            f"{failures} definition(s) changed: review, then `batchops pipelines golden-check "
            f"--project {args.project} --update` and commit",
            file=sys.stderr,
        )
    from batchops.errors import PipelineError

    return PipelineError.exit_code if failures else 0


def delete_cmd(args: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from batchops.aws import error_message
    from batchops.errors import PipelineError
    from batchops.pipelines.project import project

    settings = settings_from(args)
    sm = clients_from(args, settings).client("sagemaker")
    results = []
    for spec in project(args.project).for_environment(args.env):
        name = spec.pipeline_name(settings)
        try:
            sm.delete_pipeline(PipelineName=name, ClientRequestToken=f"delete-{uuid.uuid4().hex}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"):
                results.append({"pipeline": name, "deleted": False, "reason": "not found"})
                if not args.json:
                    print(f"{name}: not found (nothing to delete)")
                continue
            raise PipelineError(f"cannot delete {name}: {error_message(exc)}") from None
        results.append({"pipeline": name, "deleted": True, "reason": None})
        if not args.json:
            print(f"deleted {name}")
    if args.json:
        emit_json(results)
    return 0
