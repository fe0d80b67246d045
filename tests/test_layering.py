"""The import structure of the package, read from the source (nothing is imported):

- the compiler core (``tir_lsp.compiler``) never imports the language server's modules, nor
  pygls/lsprotocol: the server is a thin layer over it, never the other way round;
- the parts of the compiler (text, ir, analysis, transform, backend, executor, frontend, the
  CLI modules...) import each other without cycles;
- no module imports another module's private (``_name``) names.

Imports inside functions and under ``TYPE_CHECKING`` count: they are dependencies too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "tir_lsp"
COMPILER = "tir_lsp.compiler"
SERVER_ONLY = ("pygls", "lsprotocol")

# Known cycles between parts of the compiler (none today); the test fails while an entry is stale.
ALLOWED_CYCLES: set[frozenset[str]] = set()
# Private names knowingly shared across modules (none today).
ALLOWED_PRIVATE: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the module imported, or module.name for ``from module import name``
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(module: str, path: Path, tree: ast.AST) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            yield Import(module, source, node.lineno)
            for alias in node.names:
                yield Import(module, f"{source}.{alias.name}", node.lineno)


def _all_imports() -> list[Import]:
    out: list[Import] = []
    for module, path in _modules().items():
        out += _imports(module, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return out


def _part(name: str) -> str | None:
    """The part of the compiler ``name`` belongs to (``text``, ``cli``...), None outside it."""
    if not name.startswith(COMPILER + "."):
        return None
    return name[len(COMPILER) + 1:].split(".")[0]


def _cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_compiler_never_imports_the_server() -> None:
    bad = [f"{i.module}:{i.line} imports {i.target}" for i in _all_imports()
           if i.module.startswith(COMPILER) and (
               (i.target.startswith("tir_lsp.") and not i.target.startswith(COMPILER))
               or i.target.split(".")[0] in SERVER_ONLY)]
    assert bad == []


def test_the_parts_of_the_compiler_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = {}
    sites: dict[tuple[str, str], str] = {}
    for i in _all_imports():
        a, b = _part(i.module), _part(i.target)
        if a and b and a != b:
            edges.setdefault(a, set()).add(b)
            sites.setdefault((a, b), f"{i.module}:{i.line} imports {i.target}")
    cycles = _cycles(edges)
    unexpected = [sorted(c) for c in cycles if c not in ALLOWED_CYCLES]
    where = [sites[(a, b)] for c in cycles if c not in ALLOWED_CYCLES for a in sorted(c)
             for b in sorted(edges[a] & c)]
    assert unexpected == [], "\n".join(where)
    stale = [sorted(c) for c in ALLOWED_CYCLES if c not in cycles]
    assert stale == [], "these cycles are gone: remove them from ALLOWED_CYCLES"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    assert _cycles({"a": {"b"}, "b": {"c"}}) == []


def test_no_module_imports_another_modules_private_names() -> None:
    modules = _modules()
    bad: list[str] = []
    used: set[tuple[str, str]] = set()
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        # Names bound to modules of the package: ``from tir_lsp.compiler.text import parser``.
        aliases: dict[str, str] = {}
        for i in _imports(module, path, tree):
            name = i.target.rpartition(".")[2]
            owner = i.target.rpartition(".")[0]
            if i.target in modules:
                aliases[name] = i.target
            if name.startswith("_") and not name.startswith("__") and owner in modules and owner != module:
                used.add((module, i.target))
                if (module, i.target) not in ALLOWED_PRIVATE:
                    bad.append(f"{module}:{i.line} imports {i.target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                target = f"{aliases[node.value.id]}.{node.attr}"
                used.add((module, target))
                if (module, target) not in ALLOWED_PRIVATE:
                    bad.append(f"{module}:{node.lineno} uses {target}")
    assert bad == []
    assert ALLOWED_PRIVATE <= used, "remove the entries no longer used from ALLOWED_PRIVATE"
