"""The import layering of `offchain/`, read from the source with `ast` (nothing is imported).

Every import counts, including those inside functions (a lazy import still ties two modules together);
only imports under ``if TYPE_CHECKING:`` are left out (they never run). The rules:

* no import cycle among offchain modules (the cli <-> demo <-> dashboard circle must not come back);
* the lower layers, `offchain/chain`, `offchain/ipfs` and `offchain/compute`, never import the worker,
  the CLI or the demo (hooks reach them as callbacks);
* the demo and the dashboard never import the CLI (the CLI is a shell over them, not their library).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOWER_LAYERS = ("offchain.chain", "offchain.ipfs", "offchain.compute")
UPPER_LAYERS = ("offchain.worker", "offchain.cli", "offchain.demo")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_graph(root: Path, package: str = "offchain") -> dict[str, set[str]]:
    """Module -> the modules of ``package`` it imports (anywhere in its body), for every module under
    ``root/package``. ``from a import b`` counts as importing ``a.b`` when that is a module, else ``a``."""
    modules = {_module_name(root, p): p for p in (root / package).rglob("*.py")}

    def imports_of(name: str, path: Path) -> set[str]:
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()

        def visit(node: ast.AST) -> None:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.If) and _is_type_checking(child):
                    for stmt in child.orelse:
                        visit_one(stmt)
                else:
                    visit_one(child)

        def visit_one(node: ast.AST) -> None:
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    found.add(child if child in modules else base)
            else:
                visit(node)

        visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        return {m for m in found if m in modules and m != name}

    return {name: imports_of(name, path) for name, path in modules.items()}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (each one an import cycle), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return sorted(found)


def forbidden_imports(
    graph: dict[str, set[str]], importers: tuple[str, ...], imported: tuple[str, ...]
) -> list[str]:
    """``importer -> imported`` each import from under ``importers`` into under ``imported``."""

    def under(name: str, prefixes: tuple[str, ...]) -> bool:
        return any(name == p or name.startswith(p + ".") for p in prefixes)

    return sorted(
        f"{m} -> {d}" for m, deps in graph.items() if under(m, importers) for d in deps if under(d, imported)
    )


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return module_graph(REPO)


def test_no_import_cycle_among_offchain_modules(graph):
    assert import_cycles(graph) == []


def test_chain_ipfs_and_compute_never_import_the_worker_the_cli_or_the_demo(graph):
    assert forbidden_imports(graph, LOWER_LAYERS, UPPER_LAYERS) == []


def test_the_demo_and_the_dashboard_never_import_the_cli(graph):
    assert forbidden_imports(graph, ("offchain.demo", "offchain.dashboard"), ("offchain.cli",)) == []


def test_the_checks_see_a_lazy_cycle_and_a_forbidden_import_but_not_type_checking_ones(tmp_path):
    pkg = tmp_path / "offchain"
    (pkg / "chain").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "chain" / "__init__.py").write_text("")
    (pkg / "chain" / "tx.py").write_text("def hook():\n    from offchain.worker import faults\n")
    (pkg / "worker").mkdir()
    (pkg / "worker" / "__init__.py").write_text("")
    (pkg / "worker" / "faults.py").write_text("from . import service\n")
    (pkg / "worker" / "service.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from offchain.cli import app\n"
        "def run():\n    from offchain.worker.faults import x\n"
    )
    (pkg / "cli.py").write_text("import offchain.chain.tx\n")
    graph = module_graph(tmp_path)
    assert import_cycles(graph) == [["offchain.worker.faults", "offchain.worker.service"]]
    assert forbidden_imports(graph, LOWER_LAYERS, UPPER_LAYERS) == [
        "offchain.chain.tx -> offchain.worker.faults"
    ]
    assert "offchain.cli" not in graph["offchain.worker.service"]  # under TYPE_CHECKING: never runs
