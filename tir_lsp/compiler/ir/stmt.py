"""Statements.

Binding statements (Bind, DeclBuffer, AllocBuffer, Allocate, AllocateConst, LaunchThread and
AttrStmt without a body) are flat, as TVM 0.27 prints them: what they bind is visible in the
rest of the enclosing sequence. ``with`` forms carry an explicit ``body``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import BufferRegion, Expr, Var
from tir_lsp.compiler.ir.node import SOURCE_SPANS, Node
from tir_lsp.compiler.ir.span import Span


@dataclass(frozen=True, slots=True, eq=False)
class Stmt(Node):
    """Base of all statements."""


@dataclass(frozen=True, slots=True, eq=False)
class SeqStmt(Stmt):
    stmts: tuple[Stmt, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Evaluate(Stmt):
    """An expression evaluated for its effect (``T.evaluate(x)``, a bare call, ``return x``)."""

    value: Expr


@dataclass(frozen=True, slots=True, eq=False)
class BufferStore(Stmt):
    buffer: Buffer
    value: Expr
    indices: tuple[Expr, ...]
    predicate: Expr | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Bind(Stmt):
    """``x: T.let[T.int32] = value``: an immutable binding for the rest of the sequence."""

    var: Var
    value: Expr


@dataclass(frozen=True, slots=True, eq=False)
class AssertStmt(Stmt):
    """``assert cond, "msg"`` or ``assert cond, ("Kind", [part, ...])``."""

    condition: Expr
    message: tuple[Expr, ...]
    kind: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AttrStmt(Stmt):
    """``T.attr(node, key, value)`` (flat) or ``with T.attr(...):`` (with a body).

    ``node`` is an Expr, a Buffer, or None for the dict form ``T.attr({"k": v})``, whose
    dict is ``value`` and whose key is empty.
    """

    node: object
    key: str
    value: object
    body: Stmt | None = None
    # Where the arguments are written, by name (``node``, ``attr_key``, ``value``); for the
    # dict form, where each of the dict's values is written, by its key.
    attr_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, kw_only=True,
                                        metadata=SOURCE_SPANS)


@dataclass(frozen=True, slots=True, eq=False)
class HintStmt(Stmt):
    """``with T.hint("message", key=value):`` (or flat ``T.hint(...)``): a directive of the
    TVM 0.27 kernel dialect for the statements it wraps; ``attrs`` as written."""

    message: str
    attrs: tuple[tuple[str, Expr], ...] = ()
    body: Stmt | None = None


@dataclass(frozen=True, slots=True, eq=False)
class LaunchThread(Stmt):
    """``tx = T.launch_thread("threadIdx.x", 16)`` or ``with T.launch_thread(...) as tx:``."""

    var: Var
    tag: str
    extent: Expr
    body: Stmt | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ScopeIdDef(Stmt):
    """``tx = T.thread_id([32])``, ``bx, by = T.cta_id([2, 4])``: the ids of the running
    thread (cta, warp, lane...) in the TVM 0.27 kernel dialect, bound for the rest of the
    sequence. ``kind`` is the builtin's name; ``extents`` is None when the text defers them."""

    vars: tuple[Var, ...]
    kind: str
    extents: tuple[Expr, ...] | None
    preferred: tuple[Expr, ...] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class For(Stmt):
    """A loop ``for v in T.<kind>(min, min+extent)``; ``kind`` is serial, parallel, vectorized,
    unroll or thread_binding."""

    loop_var: Var
    min: Expr
    extent: Expr
    kind: str
    body: Stmt
    thread_binding: str | None = None
    annotations: dict[str, object] = field(default_factory=dict)
    step: Expr | None = None
    # Where each of ``annotations``' values is written, by key, and the thread tag (``thread``).
    attr_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, kw_only=True,
                                        metadata=SOURCE_SPANS)


@dataclass(frozen=True, slots=True, eq=False)
class While(Stmt):
    condition: Expr
    body: Stmt


@dataclass(frozen=True, slots=True, eq=False)
class IfThenElse(Stmt):
    condition: Expr
    then_case: Stmt
    else_case: Stmt | None = None


@dataclass(frozen=True, slots=True, eq=False)
class DeclBuffer(Stmt):
    """A buffer declared over existing memory.

    ``form`` keeps the spelling: ``decl_buffer`` (``T.decl_buffer(..., data=p)``), ``buffer``
    (``A = T.Buffer(...)`` in a body), ``view`` (``A_1 = A.view(256)``, with ``view_of``), ``permute`` (``B = A.permute(1, 0)``).
    """

    buffer: Buffer
    form: str = "decl_buffer"
    view_of: Buffer | None = None
    # ``data=<expr>`` that is not a plain var (``T.reinterpret(...)``, a workspace call): the
    # value ``buffer.data`` is bound to here, as TVM 0.27 keeps it.
    data_value: Expr | None = None
    # ``permute``: ``B = A.permute(1, 0)``, the source dimension each new dimension takes.
    dims: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class AllocBuffer(Stmt):
    """``C = T.alloc_buffer((256,))``: allocates a buffer for the rest of the sequence.

    ``scalar`` marks the sugar ``x: T.float32 = v`` (a mutable one-element local buffer,
    read as ``x`` and written as ``x = ...``).
    """

    buffer: Buffer
    annotations: dict[str, object] = field(default_factory=dict)
    scalar: bool = False


@dataclass(frozen=True, slots=True, eq=False)
class Allocate(Stmt):
    """Classic ``p = T.allocate([16], "float32", "global")``: binds pointer var ``var``."""

    var: Var
    dtype: DataType
    extents: tuple[Expr, ...]
    condition: Expr | None = None
    annotations: dict[str, object] = field(default_factory=dict)
    body: Stmt | None = None


@dataclass(frozen=True, slots=True, eq=False)
class AllocateConst(Stmt):
    """``p = T.allocate_const([1, 2, 3], "int32", [3])``: constant data bound to ``var``.

    ``data`` is None only when the text referred to omitted metadata (``metadata[...]``);
    ``metadata_ref`` then keeps the reference.
    """

    var: Var
    dtype: DataType
    extents: tuple[Expr, ...]
    data: tuple[int | float, ...] | None
    annotations: dict[str, object] = field(default_factory=dict)
    body: Stmt | None = None
    metadata_ref: tuple[str, int] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class IterVar(Node):
    """A block iterator ``v = T.axis.spatial(dom, binding)``; kind: S (spatial), R (reduce),
    O (opaque), scan, ordered."""

    var: Var
    dom_min: Expr
    dom_extent: Expr
    kind: str


@dataclass(frozen=True, slots=True, eq=False)
class MatchBufferRegion(Node):
    """``X = T.match_buffer(A[0:16, k], (16,))`` inside a block."""

    buffer: Buffer
    source: BufferRegion


@dataclass(frozen=True, slots=True, eq=False)
class SBlock(Stmt):
    """A schedulable block: ``with T.sblock("name"):`` (``T.block`` in the classic dialect)."""

    name: str
    iter_vars: tuple[IterVar, ...]
    reads: tuple[BufferRegion, ...] | None
    writes: tuple[BufferRegion, ...] | None
    body: Stmt
    init: Stmt | None = None
    alloc_buffers: tuple[Buffer, ...] = ()
    match_buffers: tuple[MatchBufferRegion, ...] = ()
    annotations: dict[str, object] = field(default_factory=dict)
    # Where each of ``annotations``' values is written (``T.sblock_attr({...})``), by key.
    attr_spans: dict[str, Span] = field(default_factory=dict, compare=False, repr=False, kw_only=True,
                                        metadata=SOURCE_SPANS)


@dataclass(frozen=True, slots=True, eq=False)
class SBlockRealize(Stmt):
    """A block with the values bound to its iterators and its predicate (``T.where``)."""

    iter_values: tuple[Expr, ...]
    predicate: Expr
    block: SBlock


def seq(stmts: list[Stmt] | tuple[Stmt, ...]) -> Stmt:
    """One statement for a list: the statement itself when there is one, else a SeqStmt."""
    if len(stmts) == 1:
        return stmts[0]
    return SeqStmt(tuple(stmts))


def flatten_seq(stmt: Stmt | None) -> list[Stmt]:
    """The statements of ``stmt`` with nested sequences spliced in."""
    if stmt is None:
        return []
    if isinstance(stmt, SeqStmt):
        out: list[Stmt] = []
        for s in stmt.stmts:
            out.extend(flatten_seq(s))
        return out
    return [stmt]
