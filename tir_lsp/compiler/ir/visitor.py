"""Generic visitors and mutators over the IR, shared by the analysis, passes and server.

Dispatch is by class name: define ``visit_BufferStore(self, node)`` to handle one kind and
call ``self.generic_visit(node)`` (visitor) or return ``self.generic_mutate(node)``
(mutator) to walk its children.

Every pass and the C backend walk whole trees several times, so the walking is tuned: each
visitor class keeps a table from node class to handler, and the generic walk of each node
class is a function generated once that reads exactly the fields that may hold nodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import fields
from typing import Any, ClassVar

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import DataType, PointerType
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.node import Node, node_fields

# Fields holding a Buffer are references, not children: a visitor walks a buffer's shape
# where it is declared (alloc, decl, param), not at every load and store.
_REFERENCE_FIELDS = {"buffer", "view_of"}

# Field annotations that never hold a node: the walkers skip such fields without reading
# them (most fields of expressions are a dtype, an op name or a constant).
_LEAF_ANNOTATIONS = frozenset({
    "DataType", "bool", "float", "int", "str", "str | None", "PointerType | None", "MetadataRef | None",
    "tuple[int | float, ...] | None", "tuple[int, ...]", "tuple[str, ...]", "tuple[str, int] | None",
})
# Values that are never nodes nor containers of them: skipped after one type test.
_LEAF_TYPES = frozenset({str, int, float, bool, type(None), DataType, PointerType})

_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    """The fields of node class ``cls`` that may hold nodes (cached per class)."""
    try:
        return _CHILD_FIELDS[cls]
    except KeyError:
        pass
    leaf = {f.name for f in fields(cls) if isinstance(f.type, str) and f.type in _LEAF_ANNOTATIONS}
    out = tuple(n for n in node_fields(cls) if n not in leaf)
    _CHILD_FIELDS[cls] = out
    return out


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


def _collect(value: Any, out: list[Node]) -> None:
    """Append the nodes inside container ``value`` to ``out`` in order (as iter_nodes)."""
    for v in value.values() if isinstance(value, dict) else value:
        if isinstance(v, Node):
            out.append(v)
        elif isinstance(v, (tuple, list, dict)):
            _collect(v, out)


def _nested(value: Any) -> list[Node]:
    out: list[Node] = []
    if isinstance(value, (tuple, list, dict)):
        _collect(value, out)
    return out


def _visit_children(node: Node) -> list[Node]:
    """The children ``IRVisitor.generic_visit`` walks, in order (buffer references excluded)."""
    out: list[Node] = []
    for name in _child_fields(type(node)):
        value = getattr(node, name)
        if type(value) in _LEAF_TYPES:
            continue
        if isinstance(value, Node):
            if name in _REFERENCE_FIELDS and isinstance(value, Buffer):
                continue
            out.append(value)
        elif isinstance(value, (tuple, list, dict)):
            _collect(value, out)
    return out


def _mutate_value(m: IRMutator, value: Any) -> Any:
    if isinstance(value, Node):
        return m.visit(value)
    if isinstance(value, tuple):
        return _mutate_tuple(m, value)
    if isinstance(value, list):
        newl = [_mutate_value(m, v) for v in value]
        return value if all(a is b for a, b in zip(newl, value)) else newl
    if isinstance(value, dict):
        newd = {k: _mutate_value(m, v) for k, v in value.items()}
        return value if all(newd[k] is value[k] for k in value) else newd
    return value


def _mutate_tuple(m: IRMutator, value: tuple[Any, ...]) -> tuple[Any, ...]:
    """``value`` with each element mutated; the same tuple when no element changed."""
    visit = m.visit
    out: list[Any] | None = None
    for i, v in enumerate(value):
        new = visit(v) if isinstance(v, Node) else _mutate_value(m, v)
        if out is not None:
            out.append(new)
        elif new is not v:
            out = list(value[:i])
            out.append(new)
    return value if out is None else tuple(out)


# ---- generated generic walks ------------------------------------------------------------
# For each node class, one function per kind of walk, equivalent to looping over
# _child_fields with getattr but without the loop, the name lookups and the leaf fields.

_GENERATED_MUTATE: dict[type, Callable[..., Any]] = {}
_GENERATED_VISIT: dict[type, Callable[..., None]] = {}
_GEN_GLOBALS = {
    "Node": Node, "Buffer": Buffer, "_LEAF_TYPES": _LEAF_TYPES, "_mutate_tuple": _mutate_tuple,
    "_mutate_value": _mutate_value, "_nested": _nested,
}


def _annotation(cls: type) -> dict[str, str]:
    return {f.name: f.type if isinstance(f.type, str) else "" for f in fields(cls)}


def _generated_mutate(cls: type) -> Callable[..., Any]:
    """``generic_mutate`` specialised to node class ``cls``."""
    fn = _GENERATED_MUTATE.get(cls)
    if fn is not None:
        return fn
    ann = _annotation(cls)
    lines = ["def mutate(self, node):", "    visit = self.visit", "    changes = None"]
    for name in _child_fields(cls):
        lines.append(f"    v = node.{name}")
        if ann.get(name, "").startswith("tuple"):
            lines.append("    n = _mutate_tuple(self, v) if type(v) is tuple else _mutate_value(self, v)")
        else:
            lines.append("    n = visit(v) if isinstance(v, Node) else v if type(v) in _LEAF_TYPES else _mutate_value(self, v)")
        lines += [
            "    if n is not v:",
            "        if changes is None:",
            "            changes = {}",
            f"        changes[{name!r}] = n",
        ]
    lines.append("    return node.with_(**changes) if changes else node")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), dict(_GEN_GLOBALS), namespace)  # noqa: S102 - generated from field names only
    mutate: Callable[..., Any] = namespace["mutate"]
    _GENERATED_MUTATE[cls] = mutate
    return mutate


def _generated_visit(cls: type) -> Callable[..., None]:
    """``generic_visit`` specialised to node class ``cls``."""
    fn = _GENERATED_VISIT.get(cls)
    if fn is not None:
        return fn
    lines = ["def walk(self, node):", "    visit = self.visit"]
    for name in _child_fields(cls):
        lines.append(f"    v = node.{name}")
        if name in _REFERENCE_FIELDS:
            lines.append("    if isinstance(v, Node):")
            lines.append("        if not isinstance(v, Buffer):")
            lines.append("            visit(v)")
        else:
            lines.append("    if isinstance(v, Node):")
            lines.append("        visit(v)")
        lines += [
            "    elif type(v) is tuple:",
            "        for c in v:",
            "            if isinstance(c, Node):",
            "                visit(c)",
            "            else:",
            "                for d in _nested(c):",
            "                    visit(d)",
            "    elif type(v) not in _LEAF_TYPES:",
            "        for d in _nested(v):",
            "            visit(d)",
        ]
    lines.append("    return None")
    namespace: dict[str, Any] = {}
    exec("\n".join(lines), dict(_GEN_GLOBALS), namespace)  # noqa: S102 - generated from field names only
    walk_fn: Callable[..., None] = namespace["walk"]
    _GENERATED_VISIT[cls] = walk_fn
    return walk_fn


def _keep(_visitor: Any, node: Node) -> Node:
    return node


def _ignore(_visitor: Any, node: Node) -> None:
    return None


def _resolve(visitor_cls: type, node_cls: type, fallback: str) -> Callable[..., Any]:
    """The ``visit_<Class>`` function of ``visitor_cls`` for ``node_cls``, else ``fallback``
    (for a mutator, nodes of its ``skip_types`` come back unvisited)."""
    fn = getattr(visitor_cls, "visit_" + node_cls.__name__, None)
    if fn is None:
        skip: tuple[type, ...] = getattr(visitor_cls, "skip_types", ())
        fn = _keep if skip and issubclass(node_cls, skip) else getattr(visitor_cls, fallback)
        # The base generic walks go straight to the generated walk of the node class; a
        # node without children (a var, a constant) needs no walk at all.
        if fn is IRMutator.generic_mutate:
            fn = _generated_mutate(node_cls) if _child_fields(node_cls) else _keep
        elif fn is IRVisitor.generic_visit:
            fn = _generated_visit(node_cls) if _child_fields(node_cls) else _ignore
    table: dict[type, Callable[..., Any]] = visitor_cls.__dict__["_dispatch"]
    table[node_cls] = fn
    return fn


class IRVisitor:
    """Walks a tree; override ``visit_<Class>`` methods for the nodes of interest."""

    # Per visitor class: node class -> the function handling it (visit_<Class> or the
    # generic walk), so each node costs one dict lookup instead of building a method name.
    _dispatch: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}

    def visit(self, node: Node) -> None:
        cls = type(node)
        fn = type(self)._dispatch.get(cls) or _resolve(type(self), cls, "generic_visit")
        fn(self, node)

    def generic_visit(self, node: Node) -> None:
        cls = type(node)
        (_GENERATED_VISIT.get(cls) or _generated_visit(cls))(self, node)


class IRMutator:
    """Rebuilds a tree; override ``visit_<Class>`` to replace nodes.

    Unchanged subtrees are returned as the same objects, so a pass that changes nothing
    returns its input. Buffers are mutated through ``visit_Buffer`` wherever they appear,
    so a pass that rewrites a buffer (flattening) sees every reference.

    A pass that only rewrites statements sets ``skip_types = (Expr, Buffer)``: nodes of those
    classes without a ``visit_<Class>`` of their own come back as they are, unwalked (most
    of a tree is expressions).
    """

    skip_types: ClassVar[tuple[type, ...]] = ()

    # Per mutator class: node class -> visit_<Class> or the generic walk (see IRVisitor).
    _dispatch: ClassVar[dict[type, Callable[..., Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}

    def visit(self, node: Node) -> Any:
        cls = type(node)
        fn = type(self)._dispatch.get(cls) or _resolve(type(self), cls, "generic_mutate")
        return fn(self, node)

    def generic_mutate(self, node: Node) -> Any:
        cls = type(node)
        return (_GENERATED_MUTATE.get(cls) or _generated_mutate(cls))(self, node)


def walk(node: Node, fn: Callable[[Node], None]) -> None:
    """Call ``fn`` on every node under ``node`` (pre-order), buffers included once each."""
    stack = [node]
    pop, extend = stack.pop, stack.extend
    while stack:
        n = pop()
        fn(n)
        children = _visit_children(n)
        if children:
            children.reverse()
            extend(children)


def map_functions(mod: IRModule, fn: Callable[[PrimFunc], PrimFunc]) -> IRModule:
    """A module with ``fn`` applied to each function, in order."""
    new = tuple(fn(f) for f in mod.functions)
    if all(a is b for a, b in zip(new, mod.functions)):
        return mod
    return mod.with_(functions=new)


def map_bodies(mod: IRModule, rewrite: Callable[[Any], Any]) -> IRModule:
    """A module with ``rewrite`` applied to each function's body; a function whose body comes
    back unchanged (the same object) is kept as it is."""
    def run(f: PrimFunc) -> PrimFunc:
        body = rewrite(f.body)
        return f if body is f.body else f.with_(body=body)

    return map_functions(mod, run)
