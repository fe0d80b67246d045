"""MakePackedAPI: functions take the C-runtime packed arguments and check every one of them."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, INT32, INT64, DataType, PointerType
from tir_lsp.compiler.ir.expr import BinOp, BufferLoad, Call, Expr, IntImm, Not, Select, StringImm, Var
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.stmt import (
    AssertStmt,
    Bind,
    DeclBuffer,
    Evaluate,
    IfThenElse,
    Stmt,
    flatten_seq,
    seq,
)
from tir_lsp.compiler.ir.visitor import map_functions
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.data_alignment import alignment_check, assume_aligned
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "MakePackedAPI"

# TVM's C runtime type codes (TVMArgTypeCode) and DLDataType codes.
K_DL_INT, K_DL_FLOAT, K_HANDLE, K_NULL, K_DLTENSOR, K_NDARRAY = 0, 2, 3, 4, 7, 13
DL_TYPE_CODE = {"int": 0, "uint": 1, "float": 2, "bfloat": 4, "bool": 6}
# tvm_struct_get field kinds (TVM's builtin::TVMStructFieldKind).
ARR_DATA, ARR_SHAPE, ARR_STRIDES, ARR_NDIM = 1, 2, 3, 4
ARR_TYPE_CODE, ARR_TYPE_BITS, ARR_TYPE_LANES, ARR_BYTE_OFFSET, ARR_DEVICE_TYPE = 5, 6, 7, 8, 10
VALUE_CONTENT = 12
UINT8, UINT16, UINT64 = DataType("uint", 8), DataType("uint", 16), DataType("uint", 64)


def calling_state(f: PrimFunc) -> str:
    """``packed``, ``unpacked`` or ``unlowered``, read from the function as the checker does."""
    if f.attrs.get("calling_conv") == 1:
        return "packed"
    if f.ret_type == INT32 and not f.buffer_map:
        return "unpacked"
    return "unlowered"


def dl_type_code(dtype: DataType) -> int:
    return DL_TYPE_CODE.get(dtype.code, 2)


def dl_bits(dtype: DataType) -> int:
    return 8 if dtype.is_bool else dtype.bits


def _i(v: int, dtype: DataType = INT32) -> IntImm:
    return IntImm(dtype, v)


def _struct_get(handle: Expr, index: int, kind: int, dtype: DataType, ret: PointerType | None = None) -> Call:
    return Call(dtype, "tvm_struct_get", (handle, _i(index), _i(kind)), ret_type=ret)


def _eq(a: Expr, b: Expr) -> Expr:
    return BinOp("eq", a, b, BOOL_T)


def _any_of(tests: list[Expr]) -> Expr:
    out = tests[0]
    for t in tests[1:]:
        out = BinOp("or", out, t, BOOL_T)
    return out


def _all_of(tests: list[Expr]) -> Expr:
    out = tests[0]
    for t in tests[1:]:
        out = BinOp("and", out, t, BOOL_T)
    return out


def _describe(e: Expr) -> str:
    if isinstance(e, IntImm):
        return str(e.value)
    if isinstance(e, Var):
        return e.name
    return "its declared extent"


class _Lowering:
    def __init__(self, f: PrimFunc) -> None:
        self.f = f
        self.args = Var("args", HANDLE_T, PointerType(DataType("void", 0)))
        self.type_ids = Var("arg_type_ids", HANDLE_T, PointerType(INT32))
        self.num_args = Var("num_args", INT32)
        self.params = (
            self.args, self.type_ids, self.num_args,
            Var("out_ret_value", HANDLE_T, PointerType(DataType("void", 0))),
            Var("out_ret_tcode", HANDLE_T, PointerType(INT32)),
            Var("resource_handle", HANDLE_T),
        )
        self.bound: set[Var] = {p for p in f.params if f.buffer_of(p) is None}
        self.stmts: list[Stmt] = []
        self.deferred: list[Stmt] = []

    def check(self, cond: Expr, kind: str, message: str, into: list[Stmt] | None = None) -> None:
        target = self.stmts if into is None else into
        target.append(AssertStmt(cond, (StringImm(f"{self.f.name}: {message}"),), kind))

    def run(self) -> PrimFunc:
        f = self.f
        n = len(f.params)
        self.check(_eq(self.num_args, _i(n)), "TypeError", f"expected {n} arguments")
        ids = Buffer("arg_type_ids_1", self.type_ids, INT32, (_i(n),))
        self.stmts.append(DeclBuffer(ids))
        handles: list[tuple[int, Var, Buffer, Var]] = []
        for i, p in enumerate(f.params):
            buf = f.buffer_of(p)
            # Messages and helper vars use the buffer's name, the one users wrote and see.
            label = buf.name if buf is not None else p.name
            code = Var(f"{label}_code", INT32)
            self.stmts.append(Bind(code, BufferLoad(ids, (_i(i),), INT32)))
            where = f"argument #{i} ({label})"
            if buf is not None:
                self.check(_any_of([_eq(code, _i(c)) for c in (K_DLTENSOR, K_NDARRAY, K_HANDLE)]), "TypeError",
                           f"{where} expects a DLTensor handle (type code 7)")
                handle = Var(f"{label}_handle", HANDLE_T)
                self.stmts.append(Bind(handle, _struct_get(self.args, i, VALUE_CONTENT, HANDLE_T)))
                handles.append((i, p, buf, handle))
            elif p.dtype.is_float:
                self.check(_eq(code, _i(K_DL_FLOAT)), "TypeError", f"{where} expects a float (type code 2)")
                self.stmts.append(Bind(p, arith.cast(p.dtype, _struct_get(self.args, i, VALUE_CONTENT, DataType("float", 64)))))
            elif p.dtype.is_handle:
                self.check(_any_of([_eq(code, _i(c)) for c in (K_HANDLE, K_NULL, K_DLTENSOR, K_NDARRAY)]), "TypeError",
                           f"{where} expects a handle (type code 3)")
                self.stmts.append(Bind(p, _struct_get(self.args, i, VALUE_CONTENT, HANDLE_T)))
            elif p.dtype.is_integer:
                self.check(_eq(code, _i(K_DL_INT)), "TypeError", f"{where} expects an integer (type code 0)")
                value = _struct_get(self.args, i, VALUE_CONTENT, INT64)
                self.stmts.append(Bind(p, value if p.dtype == INT64 else arith.cast(p.dtype, value)))
            else:
                raise pass_error(NAME, f"cannot pass parameter {p.name} of type {p.dtype}", p)
        for i, p, buf, handle in handles:
            self.tensor(i, p, buf, handle)
        self.stmts.extend(self.deferred)
        decls: list[Stmt] = [DeclBuffer(buf, form="decl_buffer") for _, _, buf, _ in handles]
        ret = Evaluate(Call(INT32, "ret", (_i(0),)))
        aligned = assume_aligned([buf for _, _, buf, _ in handles])
        body = seq([*self.stmts, *aligned, *decls, *flatten_seq(f.body), ret])
        attrs = dict(f.attrs)
        attrs["calling_conv"] = 1
        attrs.setdefault("global_symbol", f.name)
        return f.with_(params=self.params, buffer_map=(), body=body, ret_type=INT32, attrs=attrs)

    def tensor(self, i: int, p: Var, buf: Buffer, handle: Var) -> None:
        where = f"argument #{i} ({buf.name})"
        ndim = len(buf.shape)
        dt = buf.dtype
        self.check(Not(Call(BOOL_T, "isnullptr", (handle,))), "TypeError", f"{where} is NULL")
        self.check(_eq(_struct_get(handle, 0, ARR_NDIM, INT32), _i(ndim)), "ValueError", f"{where} expects ndim {ndim}")
        self.check(_all_of([
            _eq(_struct_get(handle, 0, ARR_TYPE_CODE, UINT8), _i(dl_type_code(dt), UINT8)),
            _eq(_struct_get(handle, 0, ARR_TYPE_BITS, UINT8), _i(dl_bits(dt), UINT8)),
            _eq(_struct_get(handle, 0, ARR_TYPE_LANES, UINT16), _i(dt.lanes, UINT16)),
        ]), "TypeError", f"{where} expects dtype {dt}")
        self.check(_eq(_struct_get(handle, 0, ARR_DEVICE_TYPE, INT32), _i(1)), "ValueError", f"{where} expects a CPU tensor")
        shape_ptr = Var(f"{buf.name}_shape", HANDLE_T, PointerType(INT64))
        self.stmts.append(Bind(shape_ptr, _struct_get(handle, 0, ARR_SHAPE, HANDLE_T, PointerType(INT64))))
        shape = Buffer(f"{buf.name}_shape_1", shape_ptr, INT64, (_i(ndim),))
        self.stmts.append(DeclBuffer(shape))
        for d, extent in enumerate(buf.shape):
            got = arith.cast(extent.dtype, BufferLoad(shape, (_i(d),), INT64))
            if isinstance(extent, Var) and extent not in self.bound:
                self.bound.add(extent)
                self.stmts.append(Bind(extent, got))
            else:
                self.check(_eq(got, extent), "ValueError", f"{where} expects shape[{d}] == {_describe(extent)}", self.deferred)
        strides_ptr = Var(f"{buf.name}_strides", HANDLE_T, PointerType(INT64))
        self.stmts.append(Bind(strides_ptr, _struct_get(handle, 0, ARR_STRIDES, HANDLE_T, PointerType(INT64))))
        strides = Buffer(f"{buf.name}_strides_1", strides_ptr, INT64, (_i(ndim),))
        self.stmts.append(DeclBuffer(strides))
        compact = self.compact_strides(buf)
        is_null = Call(BOOL_T, "isnullptr", (strides_ptr,))
        if buf.strides:
            for d, s in enumerate(buf.strides):
                got = Select(is_null, compact[d], BufferLoad(strides, (_i(d),), INT64))
                got_typed = arith.cast(s.dtype, got)
                if isinstance(s, Var) and s not in self.bound:
                    self.bound.add(s)
                    self.stmts.append(Bind(s, got_typed))
                else:
                    self.check(_eq(got_typed, s), "ValueError", f"{where} expects strides[{d}] == {_describe(s)}", self.deferred)
        elif ndim > 0:
            tests = [_eq(BufferLoad(strides, (_i(d),), INT64), compact[d]) for d in range(ndim)]
            self.deferred.append(IfThenElse(Not(is_null), AssertStmt(
                _all_of(tests), (StringImm(f"{self.f.name}: {where} expects compact strides"),), "ValueError")))
        byte_offset = _struct_get(handle, 0, ARR_BYTE_OFFSET, UINT64)
        if isinstance(buf.elem_offset, Var) and buf.elem_offset not in self.bound:
            self.bound.add(buf.elem_offset)
            per = _i(max(dt.bytes, 1), UINT64)
            self.stmts.append(Bind(buf.elem_offset, arith.cast(buf.elem_offset.dtype, BinOp("div", byte_offset, per, UINT64))))
        elif buf.elem_offset is None or (isinstance(buf.elem_offset, IntImm) and buf.elem_offset.value == 0):
            self.check(_eq(byte_offset, _i(0, UINT64)), "ValueError", f"{where} expects byte_offset 0")
        data = _struct_get(handle, 0, ARR_DATA, HANDLE_T, PointerType(dt.element_of()))
        self.stmts.append(Bind(buf.data, data))
        self.check(Not(Call(BOOL_T, "isnullptr", (buf.data,))), "ValueError", f"{where} has a NULL data pointer")
        aligned = alignment_check(self.f.name, where, buf)
        if aligned is not None:
            self.deferred.append(aligned)

    def compact_strides(self, buf: Buffer) -> list[Expr]:
        out: list[Expr] = []
        acc: Expr = _i(1, INT64)
        for extent in reversed(buf.shape):
            out.append(acc)
            acc = arith.mul(acc, arith.cast(INT64, extent))
        return list(reversed(out))


class MakePackedAPI:
    """Gives each function the C-runtime packed signature ``(args, arg_type_ids, num_args,
    out_ret_value, out_ret_tcode, resource_handle) -> int32`` with ``"calling_conv": 1``.

    The new body checks the argument count, each argument's type code (7 = DLTensor for
    buffers, 0 int, 2 float, 3 handle), then for each tensor: not NULL, ndim, dtype, device,
    constant shape dims (symbolic dims bind their var), compact strides, byte_offset 0, data
    aligned to the buffer's ``data_alignment`` (then ``T.attr(A, "storage_alignment", n)``,
    which the C backend tells the compiler); each
    failed check sets an error naming the function and the argument (``main: argument #1 (B)
    expects ndim 2``) and returns -1. Buffers are re-declared with ``T.decl_buffer(...,
    data=...)`` over the tensor's data pointer; the body then returns 0.
    Expects: unlowered functions (buffers in ``buffer_map``). Already-packed functions pass
    through; an unpacked one is an error (its signature cannot be recovered).
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        def run(f: PrimFunc) -> PrimFunc:
            state = calling_state(f)
            if state == "packed":
                return f
            if state == "unpacked":
                raise pass_error(NAME, f"function {f.name} is already lowered to the unpacked API", f)
            return _Lowering(f).run()

        return map_functions(mod, run)
