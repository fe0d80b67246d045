"""Building TIR as IR: small functions that make the nodes a generator needs (vars, buffers,
constants, loads and stores, calls of ``T.*`` builtins and of extern functions, statements,
blocks, functions, modules), with the dtypes the text reader would give them and no spans (a
generated node has no source). Generators (the AOT executor's ``__tvm_main__``, the ONNX
operator library, the Relax entry) build IR with these instead of writing TIR text and
parsing it back: text is only for dumps (``print_module``).

Operators combine as the reader combines them in text: a bare Python number takes the other
operand's dtype (``x + 1`` on an int64 ``x`` adds ``T.int64(1)``), and two operands of
different dtypes meet in the wider one through a cast (TVM's BinaryOpMatchTypes). ``Value``
wraps an expression so that Python's operators build these nodes (``v * 2 + k``).

    x = buffer("x", (2, 16))                      # x: T.Buffer((2, 16), "float32")
    sid = pointer_var("sid_1", "float32")          # sid_1: T.handle("float32")
    body = seq(bind(sid, address_of(load(pool, 0))),
               if_then(ne(call_extern("int32", "op", x.data, sid), 0), ret(-1)))
    f = prim_func("main", [x, pool], body, {"global_symbol": "main"})

Integers are int32 and floats float32 unless said otherwise, as in the text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import ARG0, Build, lookup_builtin
from tir_lsp.compiler.ir.dtype import (
    BOOL_T,
    FLOAT32,
    HANDLE_T,
    INT32,
    INT64,
    DataType,
    PointerType,
    parse_dtype,
)
from tir_lsp.compiler.ir.expr import (
    COMPARE_OPS,
    LOGIC_OPS,
    BinOp,
    Broadcast,
    BufferLoad,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Not,
    Select,
    StringImm,
    Var,
)
from tir_lsp.compiler.ir.fold import fold_int
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import (
    AllocateConst,
    Bind,
    BufferStore,
    DeclBuffer,
    Evaluate,
    For,
    IfThenElse,
    IterVar,
    SBlock,
    SBlockRealize,
    SeqStmt,
    Stmt,
)

DTypeLike: TypeAlias = str | DataType


def dtype(d: DTypeLike) -> DataType:
    return d if isinstance(d, DataType) else parse_dtype(d)


class Value:
    """An expression under construction: Python's operators build the nodes the reader
    builds for the same operators in text (``+ - * / // %`` and comparisons; ``eq``, ``le``
    and ``logical_and`` are functions, since ``==`` and ``and`` cannot be overloaded safely
    and Python swaps a comparison with a number on its left)."""

    __slots__ = ("node",)

    def __init__(self, node: Expr) -> None:
        self.node = node

    @property
    def dtype(self) -> DataType:
        return self.node.dtype

    def __add__(self, o: ExprLike) -> Value:
        return Value(arith("add", self, o))

    def __radd__(self, o: ExprLike) -> Value:
        return Value(arith("add", o, self))

    def __sub__(self, o: ExprLike) -> Value:
        return Value(arith("sub", self, o))

    def __rsub__(self, o: ExprLike) -> Value:
        return Value(arith("sub", o, self))

    def __mul__(self, o: ExprLike) -> Value:
        return Value(arith("mul", self, o))

    def __rmul__(self, o: ExprLike) -> Value:
        return Value(arith("mul", o, self))

    def __truediv__(self, o: ExprLike) -> Value:
        return Value(binop("div", self, o))

    def __rtruediv__(self, o: ExprLike) -> Value:
        return Value(binop("div", o, self))

    def __floordiv__(self, o: ExprLike) -> Value:
        return Value(arith("floordiv", self, o))

    def __mod__(self, o: ExprLike) -> Value:
        return Value(arith("floormod", self, o))

    def __lt__(self, o: ExprLike) -> Value:
        return Value(binop("lt", self, o))

    def __le__(self, o: ExprLike) -> Value:
        return Value(binop("le", self, o))

    def __gt__(self, o: ExprLike) -> Value:
        return Value(binop("gt", self, o))

    def __ge__(self, o: ExprLike) -> Value:
        return Value(binop("ge", self, o))


ExprLike: TypeAlias = "Expr | Value | int | float"



def _is_number(e: object) -> bool:
    return isinstance(e, (int, float)) and not isinstance(e, bool)


def const(value: float, d: DTypeLike | None = None) -> IntImm | FloatImm:
    """``value`` as a constant: int32 / float32 unless ``d`` says otherwise."""
    t = dtype(d) if d is not None else (FLOAT32 if isinstance(value, float) else INT32)
    return FloatImm(t, float(value)) if t.is_float else IntImm(t, int(value))


def literal(value: float, hint: DataType | None = None) -> IntImm | FloatImm:
    """A bare number in a context expecting ``hint``, typed as the reader types it: an
    int takes an integer or float hint it fits, a float a float hint; else int32 (int64
    when too wide) or float32."""
    if isinstance(value, bool):
        return IntImm(BOOL_T, int(value))
    if isinstance(value, int):
        if hint is not None and hint.is_float:
            return FloatImm(hint.element_of(), float(value))
        if hint is not None and (hint.is_int or hint.is_uint):
            el = hint.element_of()
            lo, hi = (0, 2**el.bits) if el.is_uint else (-(2 ** (el.bits - 1)), 2 ** (el.bits - 1))
            if lo <= value < hi:
                return IntImm(el, value)
        return IntImm(INT32 if -(2**31) <= value < 2**31 else INT64, value)
    return FloatImm(hint.element_of() if hint is not None and hint.is_float else FLOAT32, float(value))


def expr(e: ExprLike, hint: DataType | None = None) -> Expr:
    """``e`` as a node; a Python number is a literal typed by ``hint`` (see ``literal``)."""
    if isinstance(e, Value):
        return e.node
    if isinstance(e, Expr):
        return e
    return literal(e, hint)


def operands(a: ExprLike, b: ExprLike, hint: DataType | None = None) -> tuple[Expr, Expr]:
    """Both sides of an operator; a bare number takes the other side's dtype."""
    if _is_number(a) and not _is_number(b):
        eb = expr(b, hint)
        return expr(a, eb.dtype), eb
    ea = expr(a, hint)
    return ea, expr(b, ea.dtype if _is_number(b) else hint)


def match_dtypes(a: Expr, b: Expr) -> tuple[Expr, Expr]:
    """Two operands brought to one dtype as TVM's BinaryOpMatchTypes does: the one rule, for
    the reader (text/builder/expressions.py) and for IR built here."""
    da, db = a.dtype, b.dtype
    if da == db or da.is_handle or db.is_handle:
        return a, b
    if da.lanes != db.lanes:
        if da.lanes == 1:
            a = Broadcast(a, db.lanes, span=a.span)
        elif db.lanes == 1:
            b = Broadcast(b, da.lanes, span=b.span)
        da, db = a.dtype, b.dtype
        if da == db:
            return a, b
    ea, eb = da.element_of(), db.element_of()
    target: DataType
    if ea.is_float and not eb.is_float:
        target = ea
    elif eb.is_float and not ea.is_float or ea.is_bool and not eb.is_bool:
        target = eb
    elif eb.is_bool and not ea.is_bool:
        target = ea
    elif ea.bits != eb.bits:
        target = ea if ea.bits > eb.bits else eb
    elif ea.is_uint != eb.is_uint:
        target = ea if ea.is_uint else eb
    else:
        return a, b
    return coerce(a, target.with_lanes(da.lanes)), coerce(b, target.with_lanes(da.lanes))


def coerce(e: Expr, d: DataType) -> Expr:
    """``e`` as ``d``: a cast unless it already is (or either is a handle). An integer written
    in the source (an IntImm with a span) made a float becomes a float literal, not a cast,
    as in TVMScript; the result keeps ``e``'s span."""
    if e.dtype == d or d.is_handle or e.dtype.is_handle:
        return e
    if e.dtype.lanes == 1 and d.lanes > 1:
        return Broadcast(coerce(e, d.element_of()), d.lanes, span=e.span)
    if (isinstance(e, IntImm) and e.span is not None and not e.dtype.is_bool and not d.is_bool
            and d.lanes == 1 and d.is_float):
        return FloatImm(d, float(e.value), span=e.span)
    if e.dtype.lanes != d.lanes:
        return e
    return Cast(d, e, span=e.span)


def var(name: str, d: DTypeLike = INT32) -> Var:
    """A scalar variable."""
    return Var(name, dtype(d))


def pointer_var(name: str, element: DTypeLike, scope: str = "global") -> Var:
    """A pointer variable (``T.handle("float32")``)."""
    return Var(name, HANDLE_T, PointerType(dtype(element), scope))


def buffer(name: str, shape: Sequence[int | Expr], d: DTypeLike = FLOAT32, data: Var | None = None,
           scope: str = "global") -> Buffer:
    """A compact buffer over ``data`` (a new pointer var named like the buffer if None)."""
    t = dtype(d)
    return Buffer(name, data if data is not None else pointer_var(name, t, scope), t, tuple(expr(s) for s in shape),
                  scope=scope)


def dims(buf: Buffer) -> tuple[int, ...]:
    """The static shape of ``buf`` (every dimension a constant)."""
    return tuple(d.value for d in buf.shape if isinstance(d, IntImm))


def _indices(buf: Buffer, indices: Sequence[ExprLike]) -> tuple[Expr, ...]:
    return tuple(expr(i, buf.shape[k].dtype if k < len(buf.shape) and buf.shape[k].dtype.is_int else INT32)
                 for k, i in enumerate(indices))


def load(buf: Buffer, *indices: ExprLike) -> BufferLoad:
    return BufferLoad(buf, _indices(buf, indices), buf.dtype)


def store(buf: Buffer, value: ExprLike, *indices: ExprLike) -> BufferStore:
    """``buf[indices] = value``, the value cast to the buffer's dtype as the reader does."""
    return BufferStore(buf, coerce(expr(value, buf.dtype), buf.dtype), _indices(buf, indices))


def binop(op: str, a: ExprLike, b: ExprLike, hint: DataType | None = None) -> BinOp:
    """``a op b`` (``op`` a ``BinOp.op`` name) as the reader builds it; comparisons and
    logic ops are bool."""
    if op in LOGIC_OPS:
        ea, eb = expr(a, BOOL_T), expr(b, BOOL_T)
        return BinOp(op, ea, eb, BOOL_T.with_lanes(max(ea.dtype.lanes, eb.dtype.lanes)))
    ea, eb = match_dtypes(*operands(a, b, None if op in COMPARE_OPS else hint))
    return BinOp(op, ea, eb, BOOL_T.with_lanes(ea.dtype.lanes) if op in COMPARE_OPS else ea.dtype)


_ARITH = ("add", "sub", "mul", "floordiv", "floormod")


def arith(op: str, a: ExprLike, b: ExprLike) -> Expr:
    """``binop(op, a, b)`` for the integer index arithmetic of generators, without the nodes
    that do nothing: ``x + 0``, ``x - 0``, ``x * 1``, ``x // 1`` are ``x``, and two integer
    constants fold (floor division and modulo, as T.floordiv / T.floormod). So the dumps show
    ``i`` rather than ``T.Mul(i, 1)``, which the printer must spell out for TVM (its reader
    folds ``i * 1``). Float operands are never folded (``-0.0 + 0.0`` is ``0.0``)."""
    e = binop(op, a, b)
    x, y = e.a, e.b
    if op not in _ARITH or not (e.dtype.is_int or e.dtype.is_uint) or e.dtype.lanes != 1:
        return e
    if isinstance(x, IntImm) and isinstance(y, IntImm):
        v = fold_int(op, x.value, y.value)  # None: division by zero
        bits = e.dtype.bits
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if e.dtype.is_int else (0, (1 << bits) - 1)
        return IntImm(e.dtype, v) if v is not None and lo <= v <= hi else e
    if isinstance(y, IntImm) and (y.value == 0 and op in ("add", "sub") or y.value == 1 and op in ("mul", "floordiv")):
        return x
    if isinstance(x, IntImm) and (x.value == 0 and op == "add" or x.value == 1 and op == "mul"):
        return y
    return e


def add(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("add", a, b)


def mul(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("mul", a, b)


def max_(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("max", a, b)


def ne(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("ne", a, b)


def eq(a: ExprLike, b: ExprLike) -> Value:
    """``a == b`` (bool)."""
    return Value(binop("eq", a, b))


def le(a: ExprLike, b: ExprLike) -> Value:
    """``a <= b`` as written (Python turns ``0 <= v`` into ``v >= 0``, another node)."""
    return Value(binop("le", a, b))


def logical_and(*conds: ExprLike) -> Value:
    """``c0 and c1 and ...``, grouped from the left as Python groups it."""
    out = expr(conds[0], BOOL_T)
    for c in conds[1:]:
        out = binop("and", out, c)
    return Value(out)


def builtin(name: str, *args: ExprLike, hint: DataType | None = None) -> Value:
    """``T.<name>(args)`` for a value builtin of the table, built as the reader builds it:
    ``T.max`` is a BinOp, ``T.Not`` a Not, ``T.if_then_else`` a Call whose two values share
    one dtype, ``T.exp`` a Call of its argument's dtype..."""
    info = lookup_builtin(name)
    assert info is not None and info.type_arg is None, name
    node: Expr
    if info.build is Build.BINOP:
        node = binop(info.binop or "", args[0], args[1], hint)
    elif info.build is Build.NOT:
        node = Not(expr(args[0], BOOL_T))
    elif info.build in (Build.IF_THEN_ELSE, Build.SELECT):
        c = expr(args[0], BOOL_T)
        t, f = match_dtypes(*operands(args[1], args[2], hint))
        node = Select(c, t, f) if info.build is Build.SELECT else Call(t.dtype, info.name, (c, t, f))
    elif info.build is not None:
        raise AssertionError(f"T.{name} has a form of its own")
    else:
        rule = info.result
        built: tuple[Expr, ...]
        if rule == ARG0 and len(args) == 2:
            built = match_dtypes(*operands(args[0], args[1], hint))
        else:
            built = tuple(expr(a, hint if i == 0 and rule == ARG0 else None) for i, a in enumerate(args))
        node = Call(rule.dtype(built, hint), name, built)
    return Value(node)


def max_of(a: ExprLike, b: ExprLike) -> Value:
    """``T.max(a, b)``."""
    return builtin("max", a, b)


def min_of(a: ExprLike, b: ExprLike) -> Value:
    """``T.min(a, b)``."""
    return builtin("min", a, b)


def if_then_else(cond: ExprLike, then: ExprLike, otherwise: ExprLike) -> Value:
    """``T.if_then_else(cond, then, otherwise)``."""
    return builtin("if_then_else", cond, then, otherwise)


def cast(d: DTypeLike, value: ExprLike) -> Cast:
    """``T.Cast(d, value)`` (a bare number stays int32 / float32, as in the text)."""
    return Cast(dtype(d), expr(value))


def select(cond: ExprLike, true_value: ExprLike, false_value: ExprLike) -> Select:
    return Select(expr(cond), expr(true_value), expr(false_value))


def call(op: str, *args: ExprLike, d: DTypeLike = INT32) -> Call:
    """A builtin call ``T.<op>(args)`` of result type ``d``."""
    return Call(dtype(d), op, tuple(expr(a) for a in args))


def call_extern(d: DTypeLike, name: str, *args: ExprLike) -> Call:
    """``T.call_extern(d, name, args...)``."""
    return call("call_extern", StringImm(name), *args, d=d)


def call_cpacked(name: str, *args: ExprLike) -> Call:
    """``T.call_cpacked(name, args...)``: int32, the last argument the resource handle."""
    return call("call_cpacked", StringImm(name), *args)


def address_of(e: BufferLoad) -> Call:
    return call("address_of", e, d=HANDLE_T)


def null_handle() -> Call:
    """``T.reinterpret("handle", T.uint64(0))``."""
    return call("reinterpret", const(0, "uint64"), d=HANDLE_T)


def stack_make_array(data: Expr, shape: Sequence[int], element: DTypeLike = FLOAT32) -> Call:
    """A compact DLTensor on the stack over ``data``, as TVM packs a buffer: ``T.tvm_stack_make_array(data,
    T.tvm_stack_make_shape(...), 0, ndim, T.float32(0.0), 0)`` (a zero of the element dtype gives its dtype)."""
    return call("tvm_stack_make_array", data, call("tvm_stack_make_shape", *shape, d=HANDLE_T), 0, len(shape),
                const(0, element), 0, d=HANDLE_T)


def evaluate(e: ExprLike) -> Evaluate:
    return Evaluate(expr(e))


def ret(value: ExprLike) -> Evaluate:
    """``T.ret(value)``."""
    return evaluate(call("ret", value))


def bind(v: Var, value: ExprLike) -> Bind:
    """``v = value`` for the rest of the enclosing sequence. A let's value has its var's type
    in TVM: the address of another dtype's element (a workspace of bytes) is reinterpreted as
    ``v``'s pointer type, as TVM prints it (``T.reinterpret(T.handle("float32", "global").ty,
    T.address_of(pool[0]))``)."""
    e = expr(value)
    t = v.type_annotation
    if (isinstance(t, PointerType) and isinstance(e, Call) and e.op == "address_of"
            and isinstance(e.args[0], BufferLoad)
            and (e.args[0].dtype != t.element or e.args[0].buffer.scope != t.scope)):
        e = Call(HANDLE_T, "reinterpret", (e,), ret_type=t)
    return Bind(v, e)


def seq(*stmts: Stmt) -> Stmt:
    """The statements in order (one statement stands for itself)."""
    return stmts[0] if len(stmts) == 1 else SeqStmt(tuple(stmts))


def for_(v: Var, extent: ExprLike, body: Stmt, start: ExprLike = 0, kind: str = "serial") -> For:
    """``for v in T.<kind>(start, start + extent): body`` (``kind``: serial, parallel,
    vectorized, unroll)."""
    return For(v, expr(start, INT32), expr(extent, INT32), kind, body)


def if_then(cond: ExprLike, then: Stmt, otherwise: Stmt | None = None) -> IfThenElse:
    return IfThenElse(expr(cond), then, otherwise)


def allocate_const(v: Var, data: np.ndarray, body: Stmt | None = None) -> AllocateConst:
    """``v = T.allocate_const(data, dtype, shape)`` from an array: the numbers go into the
    node as they are (no text in between)."""
    arr = np.asarray(data)
    values = tuple(arr.reshape(-1).tolist())
    return AllocateConst(v, dtype(str(arr.dtype)), tuple(const(s) for s in arr.shape), values, body=body)


def decl_buffer(buf: Buffer) -> DeclBuffer:
    """``buf = T.decl_buffer(shape, dtype, data=...)``: ``buf`` over existing memory, for the
    rest of the enclosing sequence."""
    return DeclBuffer(buf)


def iter_var(name: str, extent: int, kind: str) -> IterVar:
    """A block iterator over ``0..extent`` (``kind`` S spatial, R reduction)."""
    return IterVar(Var(name, INT32), IntImm(INT32, 0), IntImm(INT32, extent), kind)


def sblock(name: str, iters: Sequence[tuple[IterVar, ExprLike]], body: Stmt, init: Stmt | None = None,
           alloc_buffers: Sequence[Buffer] = ()) -> SBlockRealize:
    """``with T.sblock(name):`` binding each iterator to its value (``T.axis.remap``), with
    ``T.init()`` and the buffers it allocates (``T.sblock_alloc_buffer``)."""
    blk = SBlock(name, tuple(iv for iv, _ in iters), None, None, body, init, tuple(alloc_buffers))
    return SBlockRealize(tuple(expr(v, INT32) for _, v in iters), IntImm(BOOL_T, 1), blk)


def root_block(body: Stmt, alloc_buffers: Sequence[Buffer] = ()) -> SBlockRealize:
    """The implicit ``root`` block of a function with blocks, holding its allocations."""
    return SBlockRealize((), IntImm(BOOL_T, 1), SBlock("root", (), (), (), body, alloc_buffers=tuple(alloc_buffers)))


def prim_func(name: str, params: Sequence[Buffer | Var], body: Stmt, attrs: dict[str, object] | None = None,
              s_tir: bool = False) -> PrimFunc:
    """A PrimFunc; a buffer parameter becomes a handle param bound to it (``x: T.Buffer(...)``)."""
    handles: list[Var] = []
    buffer_map: list[tuple[Var, Buffer]] = []
    for p in params:
        if isinstance(p, Buffer):
            h = Var(p.name, HANDLE_T)
            handles.append(h)
            buffer_map.append((h, p))
        else:
            handles.append(p)
    return PrimFunc(name, tuple(handles), tuple(buffer_map), body, attrs=dict(attrs or {}), s_tir=s_tir)


def ir_module(functions: Sequence[PrimFunc], attrs: dict[str, object] | None = None) -> IRModule:
    return IRModule(tuple(functions), dict(attrs or {}))
