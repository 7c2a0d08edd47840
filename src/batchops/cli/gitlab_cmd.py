"""``batchops gitlab``: project settings as code (``configure``, see .gitlab/README.md) and
``triggers``: the pipeline triggers the local GitLab stand-in received."""

from __future__ import annotations

import argparse
from pathlib import Path

from batchops.cli.common import add_endpoint, add_json, emit_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gitlab", help="GitLab project settings as code")
    commands = parser.add_subparsers(dest="gitlab_command", metavar="ACTION")
    configure = commands.add_parser(
        "configure",
        help="protect main and the production environments, invite the CODEOWNERS groups, "
        "set approval rules, store the pipeline trigger token (idempotent)",
        description="Token: BATCHOPS_GITLAB_TOKEN (api scope, Maintainer). The trigger token "
        "goes to Secrets Manager in the data-science account.",
    )
    configure.add_argument(
        "--project", default=None, help="project id or path (default: settings gitlab_project)"
    )
    configure.add_argument("--url", default=None, help="GitLab URL (default: settings gitlab_url)")
    configure.add_argument(
        "--codeowners",
        type=Path,
        default=Path("CODEOWNERS"),
        help="CODEOWNERS file the groups come from (default: CODEOWNERS)",
    )
    configure.add_argument(
        "--dry-run", action="store_true", help="print the changes, change nothing"
    )
    add_endpoint(configure)
    add_json(configure)
    configure.set_defaults(func=configure_project)
    triggers = commands.add_parser(
        "triggers",
        help="list the deploy pipelines the approval Lambda triggered on the local cloud",
        description="Each pipeline trigger the GitLab stand-in received (variables, never the "
        "token) and the outcome of the deploy job it ran. Needs --endpoint or "
        "BATCHOPS_ENDPOINT.",
    )
    add_endpoint(triggers)
    add_json(triggers)
    triggers.set_defaults(func=triggers_cmd)


def configure_project(args: argparse.Namespace) -> int:
    from batchops.aws import clients_for
    from batchops.config import load_settings
    from batchops.gitlab_configure import SecretStore, configure, load_codeowners
    from batchops.gitlab_project import GitLabProject, connect

    settings = load_settings("data-science")
    sections = load_codeowners(args.codeowners)
    token = settings.gitlab_token.get_secret_value() if settings.gitlab_token else None
    url = (args.url or settings.gitlab_url).rstrip("/")
    project = GitLabProject(connect(url, token), args.project or settings.gitlab_project)
    secrets = SecretStore(
        client=clients_for(settings, args.endpoint).client("secretsmanager"),
        name=settings.gitlab_trigger_secret_name,
        kms_key=settings.kms_key,
    )
    lines: list[str] = []
    changes = configure(
        project,
        sections,
        secrets,
        dry_run=args.dry_run,
        emit=lines.append if args.json else print,
    )
    if args.json:
        emit_json(
            {
                "project": project.project,
                "dry_run": args.dry_run,
                "changes": [change.describe() for change in changes],
                "log": lines,
            }
        )
    return 0


def triggers_cmd(args: argparse.Namespace) -> int:
    from batchops.cli.notifications_cmd import fetch_internal

    found = fetch_internal(args.endpoint, "gitlab-triggers")
    if args.json:
        emit_json(found)
        return 0
    rows = [
        {
            "id": t.get("id"),
            "created": str(t.get("created_at", ""))[:19],
            "ref": t.get("ref"),
            "status": t.get("status"),
            "env": t.get("variables", {}).get("DEPLOY_ENV"),
            "model package": t.get("variables", {}).get("MODEL_PACKAGE_ARN"),
            "job exit": (t.get("job") or {}).get("exit_code"),
        }
        for t in found
    ]
    columns = ["id", "created", "ref", "status", "env", "model package", "job exit"]
    print_table(rows, columns, title=f"{len(rows)} trigger(s)")
    return 0
