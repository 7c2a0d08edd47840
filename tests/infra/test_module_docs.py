"""Module READMEs cannot drift from variables.tf / outputs.tf."""

from __future__ import annotations

import module_docs


def test_every_module_readme_matches_its_variables_and_outputs() -> None:
    stale = [
        m.name
        for m in module_docs.modules()
        if module_docs.rendered(m) != (m / "README.md").read_text(encoding="utf-8")
    ]
    assert stale == [], f"regenerate with python tests/infra/module_docs.py --write: {stale}"


def test_generated_table_lists_every_variable_with_its_description() -> None:
    module = module_docs.ROOT / "shared-modules" / "kms-key"
    table = module_docs.tables(module)
    for name, description, _, _ in module_docs.blocks(module / "variables.tf", "variable"):
        assert f"| `{name}` | {module_docs._cell(description)} |" in table
    assert len(module_docs.modules()) >= 7
