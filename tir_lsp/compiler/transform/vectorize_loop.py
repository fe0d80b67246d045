"""VectorizeLoop: ``T.vectorized`` loops become Ramp / Broadcast vector statements, or serial loops."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import BUILTINS
from tir_lsp.compiler.ir.expr import (
    BinOp,
    BufferLoad,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Not,
    Ramp,
    Select,
    StringImm,
    Var,
)
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import BufferStore, For, Stmt, flatten_seq, seq
from tir_lsp.compiler.ir.structural import structural_equal
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies, walk
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.arith import int_value
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "VectorizeLoop"

def _lanewise(op: str) -> bool:
    """Whether the builtin applies lane by lane, so a vector call means one scalar call per lane."""
    info = BUILTINS.get(op)
    return info is not None and info.lanewise


class _ExprVectorizer:
    """Rewrites an expression with the loop var replaced by ``ramp``; None when it cannot."""

    def __init__(self, var: Var, ramp: Ramp) -> None:
        self.var, self.ramp, self.lanes = var, ramp, ramp.lanes

    def vec(self, e: Expr) -> Expr | None:
        if isinstance(e, Var):
            return self.ramp if e is self.var else e
        if isinstance(e, (IntImm, FloatImm, StringImm)):
            return e
        if isinstance(e, BinOp):
            a, b = self.vec(e.a), self.vec(e.b)
            return None if a is None or b is None else arith.binop(e.op, a, b)
        if isinstance(e, Not):
            a = self.vec(e.a)
            return None if a is None else Not(a, span=e.span)
        if isinstance(e, Select):
            maybe = [self.vec(x) for x in (e.condition, e.true_value, e.false_value)]
            parts = [p for p in maybe if p is not None]
            if len(parts) != 3:
                return None
            if self._any_vector(maybe):
                parts = [self._widen(p) for p in parts]
            return Select(parts[0], parts[1], parts[2], span=e.span)
        if isinstance(e, Cast):
            v = self.vec(e.value)
            return None if v is None else arith.cast(e.dtype.with_lanes(v.dtype.lanes), v)
        if isinstance(e, BufferLoad):
            if e.predicate is not None:
                return None
            indices = [self.vec(i) for i in e.indices]
            if any(i is None for i in indices):
                return None
            if not self._any_vector(indices):
                return e.with_(indices=tuple(indices))
            return e.with_(indices=tuple(self._widen(i) for i in indices), dtype=e.dtype.with_lanes(self.lanes))  # type: ignore[arg-type]
        if isinstance(e, Call) and _lanewise(e.op):
            args = [self.vec(a) for a in e.args]
            if any(a is None for a in args):
                return None
            if not self._any_vector(args):
                return e.with_(args=tuple(args))
            widened = tuple(a if isinstance(a, StringImm) else self._widen(a) for a in args)  # type: ignore[arg-type]
            return e.with_(args=widened, dtype=e.dtype.with_lanes(self.lanes))
        return None

    def _any_vector(self, parts: list[Expr | None]) -> bool:
        return any(p is not None and p.dtype.lanes > 1 for p in parts)

    def _widen(self, e: Expr) -> Expr:
        return arith.broadcast(e, self.lanes)


def _try_vectorize(loop: For) -> Stmt | None:
    """The vector form of ``loop``'s body, or None when it is not a simple elementwise body."""
    lanes = int_value(loop.extent)
    if lanes is None or lanes < 2 or loop.step is not None:
        return None
    stores = flatten_seq(loop.body)
    if not stores or not all(isinstance(s, BufferStore) and s.predicate is None for s in stores):
        return None
    vectorizer = _ExprVectorizer(loop.loop_var, Ramp(loop.min, IntImm(loop.loop_var.dtype, 1), lanes))
    out: list[Stmt] = []
    written: dict[Buffer, tuple[Expr, ...]] = {}
    for s in stores:
        assert isinstance(s, BufferStore)
        indices = [vectorizer.vec(i) for i in s.indices]
        value = vectorizer.vec(s.value)
        if value is None or any(i is None for i in indices):
            return None
        # Each lane must store to its own element: a linear index with a non-zero stride.
        last = indices[-1]
        if not (isinstance(last, Ramp) and int_value(last.stride) not in (None, 0)):
            return None
        if any(i is not None and i.dtype.lanes > 1 for i in indices[:-1]):
            return None
        key = tuple(i for i in indices if i is not None)
        if s.buffer in written and not structural_equal(written[s.buffer], key):
            return None
        written[s.buffer] = key
        out.append(s.with_(indices=key, value=arith.broadcast(value, lanes)))
    # A buffer written by the loop may only be read at the element the same lane writes,
    # else lanes would observe each other's stores in a different order than the serial loop.
    ok = True

    def check(n: object) -> None:
        nonlocal ok
        if isinstance(n, BufferLoad) and n.buffer in written and not structural_equal(written[n.buffer], tuple(n.indices)):
            ok = False

    for s in out:
        walk(s, check)
    return seq(out) if ok else None


def _find_loop(stmt: Stmt, kinds: tuple[str, ...]) -> For | None:
    found: list[For] = []
    walk(stmt, lambda n: found.append(n) if isinstance(n, For) and n.kind in kinds else None)
    return found[0] if found else None


class _LoopVectorizer(IRMutator):
    # Loops are statements: expressions and buffers hold none.
    skip_types = (Expr, Buffer)

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def visit_For(self, node: For) -> Stmt:
        node = self.generic_mutate(node)
        if node.kind != "vectorized":
            return node
        inner = _find_loop(node.body, ("parallel", "thread_binding"))
        if inner is not None:
            raise pass_error(NAME, f"cannot vectorize loop {node.loop_var.name} around {inner.kind} loop {inner.loop_var.name}", inner)
        vector = _try_vectorize(node)
        if vector is not None:
            return vector
        return node.with_(kind="serial")


class VectorizeLoop:
    """Replaces a ``T.vectorized`` loop of constant extent whose body is a sequence of
    elementwise stores (index linear in the loop var, loads, arithmetic, casts, selects and
    lane-wise math calls) by vector stores: ``A[T.Ramp(base, 1, 4)] = B[T.Ramp(...)] + ...``.

    A vectorized loop around a parallel or thread-bound loop is an error (TIR201).
    Any other vectorized loop becomes a serial loop (correct, just not vector code).
    Expects: flat buffers (FlattenBuffer ran) for the best results, though any index works.
    Guarantees: no loop of kind ``vectorized`` remains.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _LoopVectorizer().visit(body))
