"""The house rules that import-linter cannot see: no import cycle among the project's
modules, counting function-local and TYPE_CHECKING imports too, and the sizes that
keep modules readable."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("connectors", "triage", "storage", "support", "inbox", "trkv")
RUNTIME_LIMIT = 550  # lines; the second wave adds modules, not lines


def _modules() -> dict[str, Path]:
    found = {"worker": ROOT / "worker.py"}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Every project module `name` imports, wherever the import statement stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    resolved = set()
    for target in targets:
        while target and target not in known:  # `from a.b import name` means module a.b
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


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
        for successor in graph.get(node, ()):
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


def test_no_module_takes_part_in_an_import_cycle():
    graph = _graph()
    # A package imports its own modules only if its __init__ re-exports, which the house forbids;
    # without that rule `support` -> `support.x` -> `support` would be a cycle of names, not code.
    assert _cycles(graph) == []


def test_the_cycle_finder_sees_function_local_imports(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from support.delivery import kicks\n")
    assert _imports("inbox.m", source, {"support.delivery", "support.delivery.kicks"}) == {
        "support.delivery", "support.delivery.kicks"}


def test_package_init_files_hold_a_docstring_and_no_code():
    """No re-exports: a name is imported from the module that defines it."""
    inits = [init for package in PACKAGES for init in (ROOT / package).rglob("*/__init__.py")
             if "migrations" not in init.parts] + [ROOT / package / "__init__.py" for package in PACKAGES]
    for init in inits:
        body = ast.parse(init.read_text()).body
        assert body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant), init
        rest = [node for node in body[1:]
                if not (isinstance(node, ast.ImportFrom) and node.module == "__future__")]
        assert rest == [], f"{init.relative_to(ROOT)} holds code"


def test_support_keeps_at_most_eight_flat_modules():
    flat = [path.name for path in (ROOT / "support").glob("*.py") if path.name != "__init__.py"]
    assert len(flat) <= 8, flat


def test_no_runtime_module_grows_past_the_limit():
    oversized = {str(path.relative_to(ROOT)): lines for path in _modules().values()
                 if (lines := len(path.read_text().splitlines())) > RUNTIME_LIMIT}
    assert oversized == {}
