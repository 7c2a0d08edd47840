"""The package's shape: no import cycles, the local cloud laid out like moto, no globals.

DESIGN.md §4a: one module per AWS service the local cloud extends, thin handlers over
backends, no module-level state, no import cycles, container runtimes under the executor,
and names that say what a module is.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
LOCALCLOUD = SRC / "batchops" / "localcloud"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in (SRC / "batchops").rglob("*.py")}


def _type_checking_imports(tree: ast.Module) -> set[int]:
    """Line numbers of imports inside ``if TYPE_CHECKING:`` blocks (not run at all)."""
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING":
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    lines.add(inner.lineno)
    return lines


def _imports(path: Path, known: set[str]) -> Iterator[str]:
    """Every batchops module ``path`` imports, at module level or inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_imports(tree)
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skipped:
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for candidate in (node.module, *(f"{node.module}.{a.name}" for a in node.names)):
                if candidate in known:
                    yield candidate


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: set(_imports(path, known)) - {name} for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_batchops_has_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_local_cloud_has_no_module_level_global_state() -> None:
    offenders = []
    for path in LOCALCLOUD.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{path.relative_to(SRC)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Global)
        ]
    assert offenders == []


@pytest.mark.parametrize(
    "folder",
    [
        "aws/sagemaker",
        "aws/s3",
        "aws/iam",
        "aws/events",
        "aws/sns",
        "executor/steps",
        "executor/containers",
        "gitlab",
        "bootstrap",
    ],
)
def test_the_local_cloud_has_one_package_per_concern(folder: str) -> None:
    assert (LOCALCLOUD / folder / "__init__.py").is_file()


@pytest.mark.parametrize(
    "vague", ["patches", "router_support", "support", "utils", "helpers", "misc", "events_wiring"]
)
def test_module_names_say_what_they_are(vague: str) -> None:
    assert not list(LOCALCLOUD.rglob(f"{vague}.py"))


def test_the_teams_and_the_lambda_handlers_never_import_the_local_cloud() -> None:
    graph = import_graph()
    functions = [m for m in graph if m.startswith("batchops.functions")]
    leaks = {
        m: sorted(t for t in graph[m] if t.startswith("batchops.localcloud")) for m in functions
    }
    assert {m: t for m, t in leaks.items() if t} == {}
    root = SRC.parent
    for team in ("model-build", "model-deploy"):
        for path in (root / team).rglob("*.py"):
            assert "batchops.localcloud" not in path.read_text(encoding="utf-8"), path
