"""``batchops config``: show the resolved settings of an environment."""

from __future__ import annotations

import argparse
from typing import Any

from batchops.cli.common import add_env, add_json, emit_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="show resolved settings")
    commands = parser.add_subparsers(dest="config_command", metavar="ACTION")
    show = commands.add_parser(
        "show",
        help="print the settings of an environment (defaults < YAML < BATCHOPS_* variables)",
    )
    add_env(show)
    add_json(show)
    show.set_defaults(func=show_settings)


def show_settings(args: argparse.Namespace) -> int:
    from batchops.config import Settings, load_settings

    settings = load_settings(args.env)
    data = settings.public_dict()
    if args.json:
        emit_json(data)
        return 0
    fields = Settings.model_fields
    rows = [
        {
            "setting": key,
            "value": value if not isinstance(value, (list, tuple)) else _short(value),
            "meaning": fields[key].description,
        }
        for key, value in data.items()
    ]
    print_table(rows, ["setting", "value", "meaning"], title=f"settings: {args.env}")
    return 0


def _short(values: list[Any] | tuple[Any, ...]) -> str:
    if values and isinstance(values[0], dict):
        return f"{len(values)} rule(s): " + ", ".join(
            f"{v['step_name']}/{v['step_status']}" for v in values
        )
    return ", ".join(str(v) for v in values)
