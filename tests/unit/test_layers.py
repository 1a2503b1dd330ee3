"""The layers as ARCHITECTURE.md draws them, read from the source (no module is imported): core
never imports the API, Dagster code or the CLI; connectors only core's errors and settings; and no
module imports itself back through others (an import cycle), function-level imports included."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "assets", "connectors", "core", "kariz", "orchestration")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports() -> dict[str, set[str]]:
    """Every first-party module and the first-party modules it imports (anywhere in its body)."""
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]
    modules = {_module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                targets = [f"{base}.{a.name}" for a in node.names] + [base]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
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
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in graph:
        if node not in index:
            visit(node)
    return found


def _is_package_of(package: str, module: str) -> bool:
    """`package` is `module`'s own package (its `__init__` re-exports what it holds)."""
    return module.startswith(package + ".")


def test_core_never_imports_the_layers_above_it() -> None:
    graph = _imports()
    crossing = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.split(".")[0] == "core"
        for t in targets
        if t.split(".")[0] in ("api", "assets", "orchestration", "kariz")
    )
    assert crossing == []


def test_connectors_import_only_core_errors_and_settings() -> None:
    graph = _imports()
    crossing = sorted(
        f"{m} -> {t}"
        for m, targets in graph.items()
        if m.split(".")[0] == "connectors"
        for t in targets
        if t.split(".")[0] != "connectors" and t not in ("core", "core.errors", "core.settings")
    )
    assert crossing == []


def test_no_import_cycles() -> None:
    graph = _imports()
    # a package's __init__ re-exporting its own modules is not a cycle between modules
    graph = {m: {t for t in targets if not _is_package_of(m, t)} for m, targets in graph.items()}
    assert _cycles(graph) == []
