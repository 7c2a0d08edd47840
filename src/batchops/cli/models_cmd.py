"""``batchops models``: the central model registry and its approval governance."""

from __future__ import annotations

import argparse

from batchops.cli.common import (
    add_endpoint,
    add_env,
    add_json,
    clients_from,
    emit_json,
    print_table,
    settings_from,
)

COLUMNS = ["version", "status", "source", "rmse", "review_ref", "created", "arn"]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("models", help="list, show, approve and reject model versions")
    commands = parser.add_subparsers(dest="models_command", metavar="ACTION")

    def common(sub: argparse.ArgumentParser) -> None:
        add_env(sub, required=False, default="data-science")
        add_endpoint(sub)
        add_json(sub)

    ls = commands.add_parser("list", help="versions: status, source, RMSE, review, ARN")
    common(ls)
    ls.set_defaults(func=list_cmd)
    show = commands.add_parser("show", help="one version in full")
    show.add_argument("version", help="version number or model package ARN")
    common(show)
    show.set_defaults(func=show_cmd)
    approve = commands.add_parser(
        "approve",
        help="approve a version (HPO versions need --review-ref); fires the deploy trigger",
    )
    approve.add_argument("version", help="version number or model package ARN")
    approve.add_argument("--review-ref", default=None, help="model-review committee reference")
    approve.add_argument("--note", default=None, help="approval note")
    common(approve)
    approve.set_defaults(func=approve_cmd)
    reject = commands.add_parser("reject", help="reject a version (it can never be deployed)")
    reject.add_argument("version", help="version number or model package ARN")
    reject.add_argument("--reason", required=True, help="why")
    common(reject)
    reject.set_defaults(func=reject_cmd)


def _rows(versions: list) -> list[dict]:
    rows = []
    for v in versions:
        row = v.to_json()
        row["rmse"] = None if v.rmse is None else round(v.rmse, 4)
        rows.append(row)
    return rows


def list_cmd(args: argparse.Namespace) -> int:
    from batchops import registry

    settings = settings_from(args)
    versions = registry.list_versions(clients_from(args, settings), settings)
    if args.json:
        emit_json(_rows(versions))
    elif not versions:
        print(f"no versions in {settings.model_package_group_name} yet")
    else:
        print_table(_rows(versions), COLUMNS, title=settings.model_package_group_name)
    return 0


def _show(args: argparse.Namespace, version: object) -> int:
    row = _rows([version])[0]
    if args.json:
        emit_json(row)
    else:
        for key, value in row.items():
            print(f"{key:>15}: {'' if value is None else value}")
    return 0


def show_cmd(args: argparse.Namespace) -> int:
    from batchops import registry

    settings = settings_from(args)
    return _show(args, registry.resolve(clients_from(args, settings), settings, args.version))


def approve_cmd(args: argparse.Namespace) -> int:
    from batchops import registry

    settings = settings_from(args)
    version = registry.approve(
        clients_from(args, settings),
        settings,
        args.version,
        review_ref=args.review_ref,
        note=args.note,
    )
    return _show(args, version)


def reject_cmd(args: argparse.Namespace) -> int:
    from batchops import registry

    settings = settings_from(args)
    version = registry.reject(
        clients_from(args, settings), settings, args.version, reason=args.reason
    )
    return _show(args, version)
