"""Generate the Inputs/Outputs tables of each module README from variables.tf/outputs.tf.

`python tests/infra/module_docs.py --write` rewrites the section between the markers;
the test in test_module_docs.py fails when a README drifts from its module. The parser
reads what `terraform fmt` writes (top-level blocks, `description = "..."` lines), which
is all our modules contain; it is not a general HCL parser.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_BLOCK = re.compile(r'^(variable|output) "([^"]+)" \{\n(.*?)^\}', re.M | re.S)
_DESCRIPTION = re.compile(r'^  description = "((?:[^"\\]|\\.)*)"', re.M)
_TYPE = re.compile(r"^  type\s+= (.+?)(?=^  [a-z_]+\s+=|^  validation|\Z)", re.M | re.S)
_DEFAULT = re.compile(
    r"^  default\s+= (.+?)(?=^  [a-z_]+\s+=|^\n  validation|^  validation|\Z)", re.M | re.S
)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def blocks(path: Path, kind: str) -> list[tuple[str, str, str, str]]:
    """(name, description, type, default) of each block of a kind, in file order."""
    found = []
    for match in _BLOCK.finditer(path.read_text(encoding="utf-8")):
        if match.group(1) != kind:
            continue
        body = match.group(3)
        description = _DESCRIPTION.search(body)
        type_ = _TYPE.search(body)
        default = _DEFAULT.search(body)
        found.append(
            (
                match.group(2),
                description.group(1).replace('\\"', '"') if description else "",
                _cell(type_.group(1)) if type_ else "any",
                _cell(default.group(1)) if default else "",
            )
        )
    return found


def tables(module: Path) -> str:
    lines = [
        BEGIN,
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|---|---|---|---|:---:|",
    ]
    for name, description, type_, default in blocks(module / "variables.tf", "variable"):
        shown, required = (f"`{default}`", "no") if default else ("n/a", "yes")
        lines.append(f"| `{name}` | {_cell(description)} | `{type_}` | {shown} | {required} |")
    lines += ["", "## Outputs", "", "| Name | Description |", "|---|---|"]
    for name, description, _, _ in blocks(module / "outputs.tf", "output"):
        lines.append(f"| `{name}` | {_cell(description)} |")
    return "\n".join([*lines, END])


def rendered(module: Path) -> str:
    """The README with its generated section replaced (or appended)."""
    readme = module / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else f"# {module.name}\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return f"{head}{tables(module)}{tail}"
    return f"{text.rstrip()}\n\n{tables(module)}\n"


def modules() -> list[Path]:
    return sorted(p.parent for p in (ROOT / "shared-modules").glob("*/variables.tf"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite the READMEs")
    args = parser.parse_args(argv)
    stale = [
        m
        for m in modules()
        if (m / "README.md").is_file() is False
        or rendered(m) != (m / "README.md").read_text(encoding="utf-8")
    ]
    if args.write:
        for module in stale:
            tmp = module / "README.md.tmp"
            tmp.write_text(rendered(module), encoding="utf-8")
            tmp.replace(module / "README.md")
        return 0
    for module in stale:
        print(
            f"{module.relative_to(ROOT)}/README.md is out of date; "
            "run python tests/infra/module_docs.py --write",
            file=sys.stderr,
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
