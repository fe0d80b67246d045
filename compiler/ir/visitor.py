"""Generic visitors and mutators over the IR, shared by the analysis, passes and server.

Dispatch is by class name: define ``visit_BufferStore(self, node)`` to handle one kind and
call ``self.generic_visit(node)`` (visitor) or return ``self.generic_mutate(node)``
(mutator) to walk its children.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from compiler.ir.buffer import Buffer
from compiler.ir.function import IRModule, PrimFunc
from compiler.ir.node import Node, node_fields

# Fields holding a Buffer are references, not children: a visitor walks a buffer's shape
# where it is declared (alloc, decl, param), not at every load and store.
_REFERENCE_FIELDS = {"buffer", "view_of"}


def child_values(node: Node) -> Iterator[tuple[str, Any]]:
    """(field name, value) for each field of ``node`` that may hold nodes."""
    for name in node_fields(type(node)):
        yield name, getattr(node, name)


def iter_nodes(value: Any) -> Iterator[Node]:
    """The nodes directly inside a field value (a node, or a tuple/list/dict of them)."""
    if isinstance(value, Node):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from iter_nodes(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from iter_nodes(v)


class IRVisitor:
    """Walks a tree; override ``visit_<Class>`` methods for the nodes of interest."""

    def visit(self, node: Node) -> None:
        method: Callable[[Node], None] | None = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            method(node)
        else:
            self.generic_visit(node)

    def generic_visit(self, node: Node) -> None:
        for name, value in child_values(node):
            if name in _REFERENCE_FIELDS and isinstance(value, Buffer):
                continue
            for child in iter_nodes(value):
                self.visit(child)


def _mutate_value(m: IRMutator, value: Any) -> Any:
    if isinstance(value, Node):
        return m.visit(value)
    if isinstance(value, tuple):
        new = tuple(_mutate_value(m, v) for v in value)
        return value if all(a is b for a, b in zip(new, value)) else new
    if isinstance(value, list):
        newl = [_mutate_value(m, v) for v in value]
        return value if all(a is b for a, b in zip(newl, value)) else newl
    if isinstance(value, dict):
        newd = {k: _mutate_value(m, v) for k, v in value.items()}
        return value if all(newd[k] is value[k] for k in value) else newd
    return value


class IRMutator:
    """Rebuilds a tree; override ``visit_<Class>`` to replace nodes.

    Unchanged subtrees are returned as the same objects, so a pass that changes nothing
    returns its input. Buffers are mutated through ``visit_Buffer`` wherever they appear,
    so a pass that rewrites a buffer (flattening) sees every reference.
    """

    def visit(self, node: Node) -> Any:
        method: Callable[[Node], Any] | None = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            return method(node)
        return self.generic_mutate(node)

    def generic_mutate(self, node: Node) -> Any:
        changes: dict[str, Any] = {}
        for name, value in child_values(node):
            new = _mutate_value(self, value)
            if new is not value:
                changes[name] = new
        return node.with_(**changes) if changes else node


def walk(node: Node, fn: Callable[[Node], None]) -> None:
    """Call ``fn`` on every node under ``node`` (pre-order), buffers included once each."""

    class _Walker(IRVisitor):
        def visit(self, n: Node) -> None:
            fn(n)
            self.generic_visit(n)

    _Walker().visit(node)


def map_functions(mod: IRModule, fn: Callable[[PrimFunc], PrimFunc]) -> IRModule:
    """A module with ``fn`` applied to each function, in order."""
    new = tuple(fn(f) for f in mod.functions)
    if all(a is b for a, b in zip(new, mod.functions)):
        return mod
    return mod.with_(functions=new)
