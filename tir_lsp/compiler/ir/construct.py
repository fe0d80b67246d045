"""Building TIR as IR: small functions that make the nodes a generator needs (vars, buffers,
constants, loads and stores, calls of ``T.*`` builtins and of extern functions, statements,
functions, modules), with the dtypes the text reader would give them and no spans (a
generated node has no source). Generators (the AOT executor's ``__tvm_main__``; later the
ONNX operators) build IR with these instead of writing TIR text and parsing it back: text
is only for dumps (``print_module``).

    x = buffer("x", (2, 16))                      # x: T.Buffer((2, 16), "float32")
    sid = pointer_var("sid_1", "float32")          # sid_1: T.handle("float32")
    body = seq(bind(sid, address_of(load(pool, 0))),
               if_then(ne(call_extern("int32", "op", x.data, sid), 0), ret(-1)))
    f = prim_func("main", [x, pool], body, {"global_symbol": "main"})

Integers are int32 and floats float32 unless said otherwise, as in the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, HANDLE_T, INT32, DataType, PointerType, parse_dtype
from tir_lsp.compiler.ir.expr import (
    COMPARE_OPS,
    LOGIC_OPS,
    BinOp,
    BufferLoad,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Select,
    StringImm,
    Var,
)
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import (
    AllocateConst,
    Bind,
    BufferStore,
    Evaluate,
    For,
    IfThenElse,
    SeqStmt,
    Stmt,
)

DTypeLike = str | DataType
ExprLike = Expr | int | float


def dtype(d: DTypeLike) -> DataType:
    return d if isinstance(d, DataType) else parse_dtype(d)


def const(value: float, d: DTypeLike | None = None) -> IntImm | FloatImm:
    """``value`` as a constant: int32 / float32 unless ``d`` says otherwise."""
    t = dtype(d) if d is not None else (FLOAT32 if isinstance(value, float) else INT32)
    return FloatImm(t, float(value)) if t.is_float else IntImm(t, int(value))


def expr(e: ExprLike) -> Expr:
    """``e``, with Python numbers made constants."""
    return e if isinstance(e, Expr) else const(e)


def var(name: str, d: DTypeLike = INT32) -> Var:
    """A scalar variable."""
    return Var(name, dtype(d))


def pointer_var(name: str, element: DTypeLike, scope: str = "global") -> Var:
    """A pointer variable (``T.handle("float32")``)."""
    return Var(name, HANDLE_T, PointerType(dtype(element), scope))


def buffer(name: str, shape: Sequence[int | Expr], d: DTypeLike = FLOAT32, data: Var | None = None) -> Buffer:
    """A compact buffer over ``data`` (a new pointer var named like the buffer if None)."""
    t = dtype(d)
    return Buffer(name, data if data is not None else pointer_var(name, t), t, tuple(expr(s) for s in shape))


def load(buf: Buffer, *indices: ExprLike) -> BufferLoad:
    return BufferLoad(buf, tuple(expr(i) for i in indices), buf.dtype)


def store(buf: Buffer, value: ExprLike, *indices: ExprLike) -> BufferStore:
    return BufferStore(buf, expr(value), tuple(expr(i) for i in indices))


def binop(op: str, a: ExprLike, b: ExprLike) -> BinOp:
    """``a op b`` (``op`` a ``BinOp.op`` name); comparisons and logic ops are bool."""
    ea, eb = expr(a), expr(b)
    return BinOp(op, ea, eb, BOOL_T if op in COMPARE_OPS or op in LOGIC_OPS else ea.dtype)


def add(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("add", a, b)


def mul(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("mul", a, b)


def max_(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("max", a, b)


def ne(a: ExprLike, b: ExprLike) -> BinOp:
    return binop("ne", a, b)


def cast(d: DTypeLike, value: ExprLike) -> Cast:
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
    return For(v, expr(start), expr(extent), kind, body)


def if_then(cond: ExprLike, then: Stmt, otherwise: Stmt | None = None) -> IfThenElse:
    return IfThenElse(expr(cond), then, otherwise)


def allocate_const(v: Var, data: np.ndarray, body: Stmt | None = None) -> AllocateConst:
    """``v = T.allocate_const(data, dtype, shape)`` from an array: the numbers go into the
    node as they are (no text in between)."""
    arr = np.asarray(data)
    values = tuple(arr.reshape(-1).tolist())
    return AllocateConst(v, dtype(str(arr.dtype)), tuple(const(s) for s in arr.shape), values, body=body)


def prim_func(name: str, params: Sequence[Buffer | Var], body: Stmt, attrs: dict[str, object] | None = None) -> PrimFunc:
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
    return PrimFunc(name, tuple(handles), tuple(buffer_map), body, attrs=dict(attrs or {}))


def ir_module(functions: Sequence[PrimFunc], attrs: dict[str, object] | None = None) -> IRModule:
    return IRModule(tuple(functions), dict(attrs or {}))
