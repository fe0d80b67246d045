"""Hypothesis strategies for valid IR: a function over one to three buffers whose body nests
loops, conditions, let bindings and stores of well-typed expressions over the vars in scope.

Valid means what our reader would build from the printed text: int32 index arithmetic,
float32 or int32 values, stores of the buffer's own dtype, every var defined before use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from tir_lsp.compiler.ir import (
    Bind,
    BinOp,
    Buffer,
    BufferLoad,
    BufferStore,
    Cast,
    Expr,
    FloatImm,
    For,
    IfThenElse,
    IntImm,
    IRModule,
    PointerType,
    PrimFunc,
    SeqStmt,
    Stmt,
    Var,
)
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, HANDLE_T, INT32, DataType

INT_OPS = ("add", "sub", "mul", "floordiv", "floormod", "min", "max")
FLOAT_OPS = ("add", "sub", "mul", "min", "max")
COMPARE_OPS = ("lt", "le", "gt", "ge", "eq", "ne")
LOOP_KINDS = ("serial", "serial", "parallel", "unroll", "vectorized")
# float32 values, including the ones whose printing is delicate.
FLOATS = st.one_of(st.sampled_from((0.0, 1.0, -2.5, 0.1, 1e-5, 3.4028234663852886e38, -0.0)),
                   st.floats(width=32, allow_nan=True, allow_infinity=True))


@dataclass
class Scope:
    """What a statement may use: buffers, and int32 vars defined around it."""

    buffers: list[Buffer]
    int_vars: list[Var] = field(default_factory=list)
    names: int = 0

    def fresh(self, prefix: str) -> str:
        self.names += 1
        return f"{prefix}{self.names}"


def int_exprs(scope: Scope, depth: int = 3) -> st.SearchStrategy[Expr]:
    leaves: list[st.SearchStrategy[Expr]] = [st.integers(-(2**31), 2**31 - 1).map(lambda v: IntImm(INT32, v)),
                                             st.integers(0, 16).map(lambda v: IntImm(INT32, v))]
    if scope.int_vars:
        leaves.append(st.sampled_from(scope.int_vars))
    leaf = st.one_of(*leaves)
    if depth <= 0:
        return leaf
    sub = int_exprs(scope, depth - 1)
    return st.one_of(leaf, st.builds(lambda op, a, b: BinOp(op, a, b, INT32), st.sampled_from(INT_OPS), sub, sub))


def conditions(scope: Scope) -> st.SearchStrategy[Expr]:
    cmp = st.builds(lambda op, a, b: BinOp(op, a, b, BOOL_T), st.sampled_from(COMPARE_OPS),
                    int_exprs(scope, 1), int_exprs(scope, 1))
    return st.one_of(cmp, st.builds(lambda op, a, b: BinOp(op, a, b, BOOL_T), st.sampled_from(("and", "or")),
                                    cmp, cmp))


def indices(buf: Buffer, scope: Scope) -> st.SearchStrategy[tuple[Expr, ...]]:
    return st.tuples(*(int_exprs(scope, 1) for _ in buf.shape))


@st.composite
def value_exprs(draw: st.DrawFn, dtype: DataType, scope: Scope, depth: int = 2) -> Expr:
    """An expression of ``dtype`` (float32 or int32): constants, loads, casts, arithmetic."""
    if dtype == INT32 and draw(st.booleans()):
        return draw(int_exprs(scope, depth))
    choice = draw(st.integers(0, 3 if depth > 0 else 1))
    same = [b for b in scope.buffers if b.dtype == dtype]
    if choice == 0 or (choice == 1 and not same):
        return FloatImm(FLOAT32, draw(FLOATS)) if dtype == FLOAT32 else IntImm(INT32, draw(st.integers(-100, 100)))
    if choice == 1:
        buf = draw(st.sampled_from(same))
        return BufferLoad(buf, draw(indices(buf, scope)), dtype)
    if choice == 2:
        other = INT32 if dtype == FLOAT32 else FLOAT32
        return Cast(dtype, draw(value_exprs(other, scope, depth - 1)))
    ops = FLOAT_OPS if dtype == FLOAT32 else INT_OPS
    a = draw(value_exprs(dtype, scope, depth - 1))
    b = draw(value_exprs(dtype, scope, depth - 1))
    return BinOp(draw(st.sampled_from(ops)), a, b, dtype)


@st.composite
def statements(draw: st.DrawFn, scope: Scope, depth: int = 3) -> Stmt:
    """A sequence of one to three statements; a ``Bind`` scopes over the rest of it."""
    out: list[Stmt] = []
    added: list[Var] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.integers(0, 4 if depth > 0 else 1))
        if kind <= 1:
            buf = draw(st.sampled_from(scope.buffers))
            out.append(BufferStore(buf, draw(value_exprs(buf.dtype, scope)), draw(indices(buf, scope))))
        elif kind == 2:
            v = Var(scope.fresh("x"), INT32)
            out.append(Bind(v, draw(int_exprs(scope, 2))))
            scope.int_vars.append(v)
            added.append(v)
        elif kind == 3:
            v = Var(scope.fresh("i"), INT32)
            extent = draw(st.integers(1, 8))
            scope.int_vars.append(v)
            body = draw(statements(scope, depth - 1))
            scope.int_vars.remove(v)
            out.append(For(v, IntImm(INT32, 0), IntImm(INT32, extent), draw(st.sampled_from(LOOP_KINDS)), body))
        else:
            cond = draw(conditions(scope))
            then = draw(statements(scope, depth - 1))
            other = draw(st.none() | statements(scope, depth - 1))
            out.append(IfThenElse(cond, then, other))
    for v in added:
        scope.int_vars.remove(v)
    if isinstance(out[-1], Bind):  # a binding nothing uses after it is still valid, but keep a use
        out.append(BufferStore(scope.buffers[0], _zero(scope.buffers[0].dtype), (IntImm(INT32, 0),) * scope.buffers[0].ndim))
    return out[0] if len(out) == 1 else SeqStmt(tuple(out))


def _zero(dtype: DataType) -> Expr:
    return FloatImm(FLOAT32, 0.0) if dtype == FLOAT32 else IntImm(INT32, 0)


@st.composite
def modules(draw: st.DrawFn) -> IRModule:
    """A module of one function ``main`` with buffer params and a scalar ``n``."""
    bufs: list[Buffer] = []
    params: list[Var] = []
    buffer_map: list[tuple[Var, Buffer]] = []
    for k in range(draw(st.integers(1, 3))):
        name = "ABC"[k]
        dtype = draw(st.sampled_from((FLOAT32, INT32)))
        shape = tuple(IntImm(INT32, s) for s in draw(st.lists(st.integers(1, 16), min_size=1, max_size=2)))
        handle = Var(name, HANDLE_T)
        buf = Buffer(name, Var(name, HANDLE_T, PointerType(dtype, "global")), dtype, shape)
        params.append(handle)
        buffer_map.append((handle, buf))
        bufs.append(buf)
    n = Var("n", INT32)
    params.append(n)
    scope = Scope(bufs, [n])
    body = draw(statements(scope))
    func = PrimFunc("main", tuple(params), tuple(buffer_map), body, attrs={"tirx.noalias": True})
    return IRModule((func,), standalone=True)
