"""``batchops deploy`` and ``batchops deployments``: promotion of pinned model versions."""

from __future__ import annotations

import argparse
import sys

from batchops.cli.common import add_endpoint, add_json, emit_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    dep = subparsers.add_parser(
        "deploy",
        help="deploy an approved version's inference pipeline to staging or production",
        description="Pins the version in the inference pipeline of the target account. "
        "Production accepts only the version deployed to staging whose latest staging "
        "inference run succeeded. Without a version, the latest approved one is deployed.",
    )
    dep.add_argument(
        "--env",
        required=True,
        choices=["staging", "production"],
        help="the account to deploy to (production only after a successful staging run)",
    )
    which = dep.add_mutually_exclusive_group()
    which.add_argument("--model-version", default=None, help="version number, e.g. 3")
    which.add_argument("--model-package-arn", default=None, help="model package ARN")
    add_endpoint(dep)
    add_json(dep)
    dep.set_defaults(func=deploy_cmd)

    deps = subparsers.add_parser("deployments", help="current and past deployments")
    commands = deps.add_subparsers(dest="deployments_command", metavar="ACTION")
    ls = commands.add_parser("list", help="deployments per environment, oldest first")
    ls.add_argument(
        "--env",
        default=None,
        choices=["staging", "production"],
        help="only this environment (default: both)",
    )
    add_endpoint(ls)
    add_json(ls)
    ls.set_defaults(func=list_cmd)


def deploy_cmd(args: argparse.Namespace) -> int:
    from batchops.deploy import deploy

    ref = args.model_package_arn or args.model_version
    if ref is None and not args.json:
        print("no version given: deploying the latest approved version", file=sys.stderr)
    record = deploy(args.env, ref, endpoint=args.endpoint)
    if args.json:
        emit_json(record.to_json())
    else:
        print(
            f"deployed v{record.version} to {record.environment} "
            f"({record.pipeline_name} {record.action}); {record.model_package_arn}"
        )
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    from batchops.deploy import list_deployments

    rows = list_deployments(args.env, args.endpoint)
    if args.json:
        emit_json(rows)
    else:
        print_table(
            rows,
            [
                "environment",
                "version",
                "at",
                "deployed_by",
                "current",
                "status_now",
                "model_package_arn",
            ],
        )
        for row in rows:
            if row.get("current") and row.get("status_now") not in (None, "Approved"):
                print(
                    f"warning: {row['environment']} runs v{row['version']}, which is "
                    f"{row['status_now']} now: its inference runs are refused; `batchops "
                    f"deploy --env {row['environment']}` deploys the latest approved version",
                    file=sys.stderr,
                )
    return 0
