"""The C renderer: lowered TIR -> C99 that compiles with ``gcc -std=c99 -Wall -Wextra -Werror``.

Vectors are rendered lane by lane, so no compiler vector extension is needed and any vector
index (ramp, gather) works. A lane is a constant, or the variable of a lane loop: a vector
store whose lanes cannot see each other's writes becomes ``for (l) C[base + l] = value(l);``
(gcc vectorizes such loops well, and the value is rendered once); any other vector store
computes every lane into a temporary array first. A function with contiguous vector stores
(loads, broadcasts and arithmetic over ramps of stride 1) also gets a second body, under
``#ifdef TIR_VEC_BYTES`` (tir_runtime.h defines it for GCC / Clang with AVX; ``emit_c(...,
sse_vectors=True)``, the C of ``tirc build``, on SSE2 too), where
those stores are GCC vector types in TIR_VB-byte pieces: gcc then keeps a register tile in
registers (from the lane-loop form it keeps the tile in memory). Float ``T.max`` / ``T.min`` call the header's
branch-free compare-mask helpers. Functions with ``tirx.noalias`` declare
their buffer pointers ``restrict``, as TVM tells LLVM ``noalias``. float16 / bfloat16 live in
memory as ``uint16_t`` (ONNX's float8 types as ``uint8_t``) and are computed in ``float``,
rounded after every operation (bfloat16 and float8 at stores and casts). Tensor values of
signed integers wrap on overflow, and float-to-integer conversions of them are defined, as
onnxruntime computes on x86-64 (``_FunctionEmitter.computes_data``): C leaves both undefined.

Packed functions come in two ABIs: our MakePackedAPI's C-runtime signature (``TVMValue``
array + type codes) and the TVM FFI signature of TVM's own post-MakePackedAPI text
(``self_handle, args, num_args, result``, where ``args`` is an array of 16-byte
``TVMFFIAny``); ``tir_runtime.h`` defines the structs of both.
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable

from tir_lsp.compiler.backend.runtime_header import HEADER_NAME
from tir_lsp.compiler.diagnostics import CompilerError, Diagnostic
from tir_lsp.compiler.ir.affine import const_difference
from tir_lsp.compiler.ir.buffer import DEFAULT_DATA_ALIGNMENT, Buffer
from tir_lsp.compiler.ir.builtins import BUILTINS, BuiltinInfo, CTemplate, CUnsupported
from tir_lsp.compiler.ir.dtype import INT32, DataType, PointerType
from tir_lsp.compiler.ir.expr import (
    BinOp,
    Broadcast,
    BufferLoad,
    Call,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Let,
    Not,
    Ramp,
    Select,
    Shuffle,
    StringImm,
    Var,
)
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    AssertStmt,
    AttrStmt,
    Bind,
    BufferStore,
    DeclBuffer,
    Evaluate,
    For,
    IfThenElse,
    LaunchThread,
    SBlock,
    SBlockRealize,
    SeqStmt,
    Stmt,
    While,
)
from tir_lsp.compiler.ir.visitor import IRVisitor, child_values, iter_nodes

# A lane of a vector expression: a constant lane, the C name of a lane loop's variable, or
# None in a scalar context.
Lane = int | str | None
# The lane used to compare addresses before a lane loop (and its variable) exists; not a C
# identifier, so it cannot be mistaken for a variable of the function.
_LANE_PROBE = "@lane"

_NO_SPAN = Span(1, 1, 1, 1)
_C_KEYWORDS = frozenset(
    ["auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool", "_Complex", "_Imaginary", "bool", "true", "false", "NULL", "main"]
)
_RUNTIME_NAMES = frozenset(
    ["DLTensor", "DLDevice", "DLDataType", "TVMValue", "TVMFFIAny", "TVMFFIAnyValue", "TVMAPISetLastError", "TVMGetLastError", "TVMBackendAllocWorkspace", "TVMBackendFreeWorkspace", "TIRLastError", "INFINITY", "NAN"]
)
_ARITH_C = {"add": "+", "sub": "-", "mul": "*"}
_COMPARE_C = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
# tvm_struct_get kinds on a DLTensor handle -> field access.
_DLTENSOR_FIELDS = {
    1: "data", 2: "shape", 3: "strides", 4: "ndim", 5: "dtype.code", 6: "dtype.bits", 7: "dtype.lanes",
    8: "byte_offset", 9: "device.device_id", 10: "device.device_type",
}
# tvm_struct_get kinds on a TVMFFIAny array (TVM's FFI ABI): its type index, its padding
# word; kind 15, its value, is read by the member the result type names (struct_get).
_FFI_ANY_TYPE_INDEX, _FFI_ANY_ZERO_PADDING, _FFI_ANY_VALUE = 13, 14, 15


_C_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _error(message: str, node: Node | None) -> CompilerError:
    span = node.span if node is not None and node.span is not None else _NO_SPAN
    if isinstance(node, PrimFunc) and node.name_span is not None:
        span = node.name_span
    return CompilerError(Diagnostic("TIR202", f"C backend: {message}", span))


def storage_type(dtype: DataType) -> str:
    """The C type of one element of ``dtype`` in memory."""
    d = dtype.element_of()
    if d.is_handle:
        return "void*"
    if d.is_bool:
        return "bool"
    if d.code == "int" and d.bits in (8, 16, 32, 64):
        return f"int{d.bits}_t"
    if d.code == "uint" and d.bits in (8, 16, 32, 64):
        return f"uint{d.bits}_t"
    if d.code == "float" and d.bits == 32:
        return "float"
    if d.code == "float" and d.bits == 64:
        return "double"
    if (d.code == "float" and d.bits == 16) or d.code == "bfloat":
        return "uint16_t"
    if d.code in _FLOAT8:
        return "uint8_t"
    raise _error(f"data type {dtype} has no C representation", None)


def compute_type(dtype: DataType) -> str:
    """The C type an expression of ``dtype`` is computed in (16-bit floats in float)."""
    d = dtype.element_of()
    if _half_kind(d):
        return "float"
    return storage_type(d)


def _half_kind(d: DataType) -> str | None:
    """The small float kind of ``d`` (stored as bits, computed in float): its name in the
    runtime header's conversions (``tir_f32_to_<kind>``...), or None."""
    if d.code == "float" and d.bits == 16:
        return "f16"
    if d.code == "bfloat":
        return "bf16"
    return _FLOAT8.get(d.code)


# ONNX's 8-bit floats (uint8_t in memory): TIR dtype code -> the runtime header's kind.
_FLOAT8 = {"float8_e4m3fn": "f8e4m3fn", "float8_e4m3fnuz": "f8e4m3fnuz", "float8_e5m2": "f8e5m2",
           "float8_e5m2fnuz": "f8e5m2fnuz"}


# Printable ASCII other than '"' and '\\': characters a C string literal takes as they are.
_PLAIN_C_STRING = re.compile(r'[ !#-\[\]-~]*')


def _c_string(s: str) -> str:
    if _PLAIN_C_STRING.fullmatch(s):
        return '"' + s + '"'
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.extend(f"\\{b:03o}" for b in ch.encode())
    return '"' + "".join(out) + '"'


def _float_literal(value: float, dtype: DataType) -> str:
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INFINITY" if value > 0 else "(-INFINITY)"
    text = repr(float(value))
    if "e" not in text and "." not in text:
        text += ".0"
    if dtype.bits == 64 and dtype.code == "float":
        return text if value >= 0 else f"({text})"
    return f"{text}f" if value >= 0 else f"({text}f)"


def _int_literal(value: int, dtype: DataType) -> str:
    d = dtype.element_of()
    if d.is_bool:
        return "1" if value else "0"
    if d.is_uint:
        if d.bits == 64:
            return f"UINT64_C({value})"
        return f"(({storage_type(d)}){value}u)"
    if d.bits == 64:
        return f"INT64_C({value})" if value != -(2**63) else "INT64_MIN"
    if d.bits == 32:
        if value == -(2**31):
            return "INT32_MIN"
        return str(value) if value >= 0 else f"({value})"
    return f"(({storage_type(d)}){value})"


def _half_bits(value: float, kind: str) -> int:
    if kind.startswith("f8"):
        # numpy's ml_dtypes (a dependency of onnx, which makes float8 tensors) converts as
        # the header does: to nearest even, out of range to NaN or an infinity.
        import ml_dtypes
        import numpy as np

        code = next(c for c, k in _FLOAT8.items() if k == kind)
        return int(np.array(value, dtype=getattr(ml_dtypes, code)).view(np.uint8))
    if kind == "f16":
        return int(struct.unpack("<H", struct.pack("<e", value))[0])
    bits = int(struct.unpack("<I", struct.pack("<f", value))[0])
    if math.isnan(value):
        return (bits >> 16) | 0x40
    bits += 0x7FFF + ((bits >> 16) & 1)
    return (bits >> 16) & 0xFFFF


class _Uses(IRVisitor):
    """Vars read anywhere (definitions excluded) and buffers accessed."""

    def __init__(self) -> None:
        self.vars: set[Var] = set()
        self.buffer_data: set[Var] = set()
        self.stored: set[Var] = set()  # pointers written through (stores, address_of)
        self.addressed: set[Var] = set()  # pointers whose address is read as an integer
        self.pointer_elems: dict[Var, DataType] = {}

    def visit_Var(self, node: Var) -> None:
        self.vars.add(node)

    def visit_Bind(self, node: Bind) -> None:
        self.visit(node.value)

    def visit_For(self, node: For) -> None:
        for child in (node.min, node.extent, node.step, node.body):
            if child is not None:
                self.visit(child)

    def visit_Allocate(self, node: Allocate) -> None:
        self.pointer_elems.setdefault(node.var, node.dtype)
        for e in node.extents:
            self.visit(e)

    def visit_AllocateConst(self, node: AllocateConst) -> None:
        self.pointer_elems.setdefault(node.var, node.dtype)

    def _buffer(self, buf: Buffer) -> None:
        self.pointer_elems.setdefault(buf.data, buf.dtype)

    def visit_DeclBuffer(self, node: DeclBuffer) -> None:
        self._buffer(node.buffer)

    def visit_AllocBuffer(self, node: AllocBuffer) -> None:
        self._buffer(node.buffer)

    def visit_BufferLoad(self, node: BufferLoad) -> None:
        self.buffer_data.add(node.buffer.data)
        self._buffer(node.buffer)
        self.generic_visit(node)

    def visit_BufferStore(self, node: BufferStore) -> None:
        self.buffer_data.add(node.buffer.data)
        self.stored.add(node.buffer.data)
        self._buffer(node.buffer)
        self.generic_visit(node)

    def visit_AttrStmt(self, node: AttrStmt) -> None:
        # ``T.attr(A, "storage_alignment", 64)`` says where A points, it does not use A's value.
        if node.key != "storage_alignment" or not isinstance(node.node, Var):
            self.generic_visit(node)
        elif node.body is not None:
            self.visit(node.body)

    def visit_Call(self, node: Call) -> None:
        if node.op == "reinterpret" and len(node.args) == 1 and isinstance(node.args[0], Var) \
                and node.args[0].dtype.is_handle and not node.dtype.is_handle:
            # A pointer's address as an integer (an alignment check): no read or write through it.
            self.addressed.add(node.args[0])
            return
        if node.op == "address_of":
            # The address of an element may be written through: the buffer is not read-only.
            for arg in node.args:
                if isinstance(arg, BufferLoad):
                    self.stored.add(arg.buffer.data)
        self.generic_visit(node)


class _FunctionEmitter:
    def __init__(self, f: PrimFunc, taken: set[str], vector_ext: bool = False) -> None:
        self.f = f
        # Render contiguous vector stores with GCC vector extensions (the ``#ifdef
        # TIR_VEC_BYTES`` branch); vector_types collects the (element, lanes) typedefs used.
        self.vector_ext = vector_ext
        self.vector_types: set[tuple[DataType, int]] = set()
        self.chunk_name: str | None = None
        self.lines: list[str] = []
        self.indent = 1
        self.names: dict[Var, str] = {}
        self.taken = set(taken)
        self.module_symbols = frozenset(taken)
        self.vector_vars: set[Var] = set()
        self.tmp_counter = 0
        uses = _Uses()
        uses.visit(f.body)
        self.uses = uses
        self.noalias = f.attrs.get("tirx.noalias") is True or f.attrs.get("tir.noalias") is True
        self.packed = f.attrs.get("calling_conv") == 1
        # Pointers to memory no other pointer of the function reaches: local allocations,
        # and with noalias the buffer pointers the caller passes (what ``restrict`` promises).
        self.distinct: set[Var] = set()
        self.readonly: set[Var] = set()  # pointer params declared ``const``
        self.lane_name: str | None = None
        # Signed integer arithmetic on tensor values (see ``wraps``): rendering inside a buffer
        # index (``in_index``) stays plain C; scalar vars bound to a value that reads tensor
        # data are data too (``data_vars``); ``data_memo`` caches ``reads_data`` by node id.
        self.in_index = False
        self.data_vars: set[Var] = set()
        self.data_memo: dict[int, bool] = {}

    # ---- names and types -------------------------------------------------------------
    def declare(self, var: Var) -> str:
        base = re.sub(r"[^A-Za-z0-9_]", "_", var.name) or "v"
        if base[0].isdigit() or base in _C_KEYWORDS or base in _RUNTIME_NAMES or base.startswith("tir_"):
            base = "v_" + base
        name, k = base, 0
        while name in self.taken:
            k += 1
            name = f"{base}_{k}"
        self.taken.add(name)
        self.names[var] = name
        return name

    def name_of(self, var: Var) -> str:
        try:
            return self.names[var]
        except KeyError:
            raise _error(f"variable {var.name} is used but never defined in {self.f.name}", var) from None

    def pointer_elem(self, var: Var) -> DataType | None:
        if isinstance(var.type_annotation, PointerType) and not var.type_annotation.element.is_void:
            return var.type_annotation.element
        return self.uses.pointer_elems.get(var)

    def var_ctype(self, var: Var) -> str:
        if var.dtype.is_handle:
            elem = self.pointer_elem(var)
            return "void*" if elem is None else storage_type(elem) + "*"
        return compute_type(var.dtype)

    def tmp(self, prefix: str) -> str:
        self.tmp_counter += 1
        name = f"{prefix}{self.tmp_counter}"
        while name in self.taken:
            self.tmp_counter += 1
            name = f"{prefix}{self.tmp_counter}"
        self.taken.add(name)
        return name

    def emit(self, line: str) -> None:
        self.lines.append("  " * self.indent + line)

    def read_only(self, param: Var) -> bool:
        """A typed pointer param of an unpacked function that is only loaded from: never
        stored through, never used as a value (passed on, bound, offset)."""
        return (not self.packed and param.dtype.is_handle and self.pointer_elem(param) is not None
                and param not in self.uses.stored and param not in self.uses.vars)

    # ---- function ----------------------------------------------------------------------
    def signature(self) -> str:
        f = self.f
        if f.buffer_map:
            raise _error(f"function {f.name} still takes buffers; run MakePackedAPI or MakeUnpackedAPI first", f)
        params = []
        for p in f.params:
            ctype = self.var_ctype(p)
            if self.read_only(p):
                # Read-only buffers are const so callers may pass constant data (linked
                # params are ``static const`` arrays) without discarding the qualifier.
                ctype = "const " + ctype
                self.readonly.add(p)
            # Packed functions take the runtime's argument arrays; their buffer pointers are
            # the DLTensor data pointers bound in the body (stmt_Bind).
            if self.noalias and not self.packed and p.dtype.is_handle:
                ctype += " restrict"
                self.distinct.add(p)
            params.append(f"{ctype} {self.declare(p)}")
        return f"int32_t {c_symbol(f)}({', '.join(params) or 'void'})"

    def run(self) -> tuple[str, list[str]]:
        sig = self.signature()
        for p in self.f.params:
            self.emit(f"(void){self.names[p]};")
        self.stmt(self.f.body)
        last = self.lines[-1].strip() if self.lines else ""
        if not last.startswith("return"):
            self.emit("return 0;")
        return sig, self.lines

    # ---- statements --------------------------------------------------------------------
    def block(self, stmt: Stmt) -> None:
        self.indent += 1
        self.stmt(stmt)
        self.indent -= 1

    def mark_unused(self, var: Var, name: str) -> None:
        if var not in self.uses.vars and var not in self.uses.buffer_data and var not in self.uses.addressed:
            self.emit(f"(void){name};")

    def stmt(self, s: Stmt) -> None:
        method = getattr(self, "stmt_" + type(s).__name__, None)
        if method is None:
            raise _error(f"statement {type(s).__name__} is not supported", s)
        method(s)

    def stmt_SeqStmt(self, s: SeqStmt) -> None:
        stmts = s.stmts
        i = 0
        while i < len(stmts):
            key = None if self.vector_bytes(stmts[i]) is not None else self.lane_loop_key(stmts[i])
            if key is None:
                self.stmt(stmts[i])
                i += 1
                continue
            # Vector stores in a row share one lane loop when running them lane by lane does
            # what running them one after the other does (lanes_fuse, pairwise).
            j = i + 1
            while j < len(stmts):
                k = self.lane_loop_key(stmts[j])
                if k is None or k[0] != key[0] or self.vector_bytes(stmts[j]) is not None:
                    break
                if not all(self.lanes_fuse(stmts[m], stmts[j], key[0]) for m in range(i, j)):  # type: ignore[arg-type]
                    break
                j += 1
            self.lane_loop([x for x in stmts[i:j] if isinstance(x, BufferStore)])
            i = j

    def stmt_Bind(self, s: Bind) -> None:
        var = s.var
        if var.dtype.lanes > 1:
            name = self.declare(var)
            lanes = var.dtype.lanes
            values = [self.expr(s.value, lane) for lane in range(lanes)]
            self.vector_vars.add(var)
            self.emit(f"{compute_type(var.dtype)} {name}[{lanes}];")
            for lane, v in enumerate(values):
                self.emit(f"{name}[{lane}] = {v};")
            self.mark_unused(var, name)
            return
        if var.dtype.is_handle:
            self.bind_pointer(var, s.value)
            return
        value = self.expr(s.value, None)
        ctype = self.var_ctype(var)
        name = self.declare(var)
        if self.reads_data(s.value):
            self.data_vars.add(var)
        self.emit(f"{ctype} {name} = {value};")
        self.mark_unused(var, name)

    def bind_pointer(self, var: Var, value_expr: Expr) -> None:
        """``T* var = (T*)(value);`` for a pointer var; a DLTensor's data pointer in a noalias
        function is ``restrict``, as TVM tells LLVM."""
        value = self.expr(value_expr, None)
        ctype = self.var_ctype(var)
        name = self.declare(var)
        qualifier = ""
        if _is_workspace_alloc(value_expr):
            self.distinct.add(var)
        elif self.noalias and _is_tensor_data(value_expr):
            qualifier = " restrict"
            self.distinct.add(var)
        # A T.reinterpret to the var's own pointer type is already the cast (the AOT main's
        # pool slices): no second one.
        cast_done = value.startswith(f"(({ctype})(") and isinstance(value_expr, Call) and value_expr.op == "reinterpret"
        self.emit(f"{ctype}{qualifier} {name} = {value if cast_done else f'({ctype})({value})'};")
        self.mark_unused(var, name)

    def stmt_Evaluate(self, s: Evaluate) -> None:
        v = s.value
        if isinstance(v, Call):
            info = BUILTINS.get(v.op)
            if info is not None and info.c_stmt is not None:  # ``return x;``
                self.emit(self.c_template(info.c_stmt, info, v, None))
                return
        if isinstance(v, (IntImm, FloatImm)):
            return
        if v.dtype.lanes > 1:
            for lane in range(v.dtype.lanes):
                self.emit(f"(void)({self.expr(v, lane)});")
            return
        self.emit(f"(void)({self.expr(v, None)});")

    def stmt_AssertStmt(self, s: AssertStmt) -> None:
        parts = []
        for m in s.message:
            if isinstance(m, StringImm):
                parts.append(m.value)
            elif isinstance(m, IntImm):
                parts.append(str(m.value))
        text = "".join(parts)
        if s.kind:
            text = f"{s.kind}: {text}"
        self.emit(f"if (!({self.expr(s.condition, None)})) {{")
        self.indent += 1
        self.emit(f"TVMAPISetLastError({_c_string(text)});")
        self.emit("return -1;")
        self.indent -= 1
        self.emit("}")

    def stmt_IfThenElse(self, s: IfThenElse) -> None:
        self.emit(f"if ({self.expr(s.condition, None)}) {{")
        self.block(s.then_case)
        if s.else_case is not None:
            self.emit("} else {")
            self.block(s.else_case)
        self.emit("}")

    def stmt_While(self, s: While) -> None:
        self.emit(f"while ({self.expr(s.condition, None)}) {{")
        self.block(s.body)
        self.emit("}")

    def stmt_For(self, s: For) -> None:
        if s.kind == "thread_binding" or s.thread_binding:
            raise _error(f"loop {s.loop_var.name} is bound to a GPU thread; a C target has no threads", s)
        lo = self.expr(s.min, None)
        end = self.expr(s.extent, None) if isinstance(s.min, IntImm) and s.min.value == 0 else f"{lo} + {self.expr(s.extent, None)}"
        ctype = compute_type(s.loop_var.dtype)
        name = self.declare(s.loop_var)
        step = f"{name} += {self.expr(s.step, None)}" if s.step is not None else f"++{name}"
        if s.kind == "parallel":
            # Without -fopenmp the pragma is not even seen, so -Wunknown-pragmas stays quiet.
            self.lines.append("#ifdef _OPENMP")
            self.lines.append("#pragma omp parallel for")
            self.lines.append("#endif")
        elif s.kind == "unroll" and isinstance(s.extent, IntImm) and 0 < s.extent.value < 65535:
            self.lines.append(f"#pragma GCC unroll {s.extent.value}")
        self.emit(f"for ({ctype} {name} = {lo}; {name} < ({end}); {step}) {{")
        self.block(s.body)
        self.emit("}")

    def stmt_DeclBuffer(self, s: DeclBuffer) -> None:
        data = s.buffer.data
        if s.data_value is not None:
            # ``T.decl_buffer(..., data=T.reinterpret(...))`` (TVM's packed text): the buffer's
            # pointer is bound here, as a Bind of its data var would.
            self.bind_pointer(data, s.data_value)
            return
        if data in self.names:
            return
        if s.form == "buffer" and data not in self.uses.buffer_data:
            # ``A = T.Buffer((n,))`` that TVM's MakePackedAPI leaves for an alignment attr:
            # nothing reads memory through it, so it needs no C.
            return
        raise _error(f"buffer {s.buffer.name} is declared over {data.name}, which has no value here", s)

    def stmt_AllocBuffer(self, s: AllocBuffer) -> None:
        buf = s.buffer
        self._array_decl(buf.data, buf.dtype, buf.shape, s, buf.data_alignment)

    def stmt_Allocate(self, s: Allocate) -> None:
        self._array_decl(s.var, s.dtype, s.extents, s, DEFAULT_DATA_ALIGNMENT)
        if s.body is not None:
            self.stmt(s.body)

    def _array_decl(self, var: Var, dtype: DataType, extents: tuple[Expr, ...], node: Stmt, align: int) -> None:
        size = 1
        for e in extents:
            if not isinstance(e, IntImm):
                raise _error(f"allocation {var.name} has a symbolic size; run StorageRewrite first", node)
            size *= e.value
        size *= dtype.lanes  # a buffer of vectors holds lanes scalars per element
        name = self.declare(var)
        self.distinct.add(var)
        # An array whose address is passed on (a call's buffer argument) is aligned as buffer
        # parameters promise; one only loaded from and stored to needs nothing.
        aligned = f" TIR_ALIGNED({align})" if var in self.uses.vars and align > dtype.bytes else ""
        self.emit(f"{storage_type(dtype)} {name}[{max(size, 1)}]{aligned};")
        self.mark_unused(var, name)

    def stmt_AllocateConst(self, s: AllocateConst) -> None:
        if s.data is None:
            raise _error(f"constant {s.var.name} refers to metadata omitted from the text; print it with show_meta", s)
        kind = _half_kind(s.dtype)
        if kind is not None:
            items = [f"0x{_half_bits(float(v), kind):0{2 if kind.startswith('f8') else 4}x}" for v in s.data]
        elif s.dtype.is_float:
            items = [_float_literal(float(v), s.dtype) for v in s.data]
        else:
            items = [_int_literal(int(v), s.dtype) for v in s.data]
        name = self.declare(s.var)
        self.distinct.add(s.var)
        self.emit(f"static const {storage_type(s.dtype)} {name}[{max(len(items), 1)}] = {{{', '.join(items) or '0'}}};")
        self.mark_unused(s.var, name)
        if s.body is not None:
            self.stmt(s.body)

    def stmt_AttrStmt(self, s: AttrStmt) -> None:
        if s.key == "storage_alignment" and isinstance(s.node, Var) and isinstance(s.value, IntImm) \
                and s.node in self.names and s.value.value > 1:
            # The data pointer's alignment, checked at the function's entry (MakePackedAPI /
            # MakeUnpackedAPI) or promised by the TIR: gcc / clang may then use aligned loads.
            # It holds to the end of the function: the body needs no block of its own.
            name = self.names[s.node]
            self.lines.append("#if defined(__GNUC__)")
            self.emit(f"{name} = ({self.var_ctype(s.node)})__builtin_assume_aligned({name}, {s.value.value});")
            self.lines.append("#endif")
            if s.body is not None:
                self.stmt(s.body)
            return
        if s.body is not None:
            self.emit("{")
            self.block(s.body)
            self.emit("}")

    def stmt_LaunchThread(self, s: LaunchThread) -> None:
        raise _error(f"T.launch_thread({s.tag!r}) needs a GPU target", s)

    def stmt_SBlockRealize(self, s: SBlockRealize) -> None:
        raise _error(f"block {s.block.name} is still present; run the lowering pipeline first", s)

    def stmt_SBlock(self, s: SBlock) -> None:
        raise _error(f"block {s.name} is still present; run the lowering pipeline first", s)

    def stmt_BufferStore(self, s: BufferStore) -> None:
        buf = s.buffer
        lanes = s.value.dtype.lanes
        if lanes == 1:
            target = self.element(buf, s.indices, None, s)
            self.emit(f"{target} = {self.to_storage(buf.dtype, self.expr(s.value, None))};")
            return
        total = self.vector_bytes(s)
        if total is not None:
            self.vector_store(s, total)
            return
        if self.lane_loop_key(s) is not None:
            self.lane_loop([s])
            return
        # Vector store: every lane's value is computed before any lane is stored.
        tmp = self.tmp("vec")
        self.emit("{")
        self.indent += 1
        self.emit(f"{compute_type(s.value.dtype)} {tmp}[{lanes}];")
        for lane in range(lanes):
            self.emit(f"{tmp}[{lane}] = {self.expr(s.value, lane)};")
        for lane in range(lanes):
            target = self.element(buf, s.indices, lane, s)
            store = f"{target} = {self.to_storage(buf.dtype, f'{tmp}[{lane}]')};"
            if s.predicate is not None:
                store = f"if ({self.expr(s.predicate, lane)}) {store}"
            self.emit(store)
        self.indent -= 1
        self.emit("}")

    # ---- the vector-extension branch ------------------------------------------------------
    def vector_bytes(self, s: Stmt) -> int | None:
        """The size in bytes of vector store ``s`` when the vector branch stores it as whole
        vectors, else None (it stays a lane loop or a temporary array).

        Taken when the store and every load in its value are contiguous (a ramp of stride 1)
        in one element type of ``_VECTOR_ELEMENTS``, the value is loads, broadcasts and
        + - * (and / on floats), the size is a power of two, and a lane loop would be correct
        (lane_loop_safe): the vector is then stored in TIR_VB-sized pieces, one after another,
        each reading only memory that no earlier piece wrote.
        """
        if not self.vector_ext or not isinstance(s, BufferStore) or s.predicate is not None:
            return None
        lanes = s.value.dtype.lanes
        elem = s.buffer.dtype
        if lanes < 2 or elem.lanes != 1 or s.value.dtype != elem.with_lanes(lanes) or elem not in _VECTOR_ELEMENTS:
            return None
        total = lanes * elem.bits // 8
        if total & (total - 1) or total > _VECTOR_MAX_BYTES:
            return None
        if not (_contiguous(s.indices, lanes) and _vector_value_ok(s.value, elem, lanes) and self.lane_loop_safe(s)):
            return None
        return total

    def chunk_var(self) -> str:
        """The C name of the vector branch's piece loops' variable (they never nest)."""
        if self.chunk_name is None:
            self.chunk_name = self.declare(Var("c", INT32))
        return self.chunk_name

    def vector_store(self, s: BufferStore, total: int) -> None:
        """``for (c) *(vector*)&C[base + c * piece] = value(c);`` over the TIR_VB(total)-byte
        pieces of the stored vector."""
        elem, lanes = _vector_elem(s.buffer.dtype), s.value.dtype.lanes
        self.vector_types.add((elem, lanes))
        cv = self.chunk_var()
        size = elem.bits // 8
        offset = f"({cv} * TIR_VB({total}))" if size == 1 else f"({cv} * (TIR_VB({total}) / {size}))"
        utype = _vector_type_name(elem, lanes, "u")
        # gcc -O2 keeps a loop of 2-4 pieces rolled (and the tile in memory): 2.1x slower.
        self.lines.append(f"#pragma GCC unroll {max(total // 16, 1)}")
        self.emit(f"for (int32_t {cv} = 0; {cv} < {total} / TIR_VB({total}); ++{cv}) {{")
        self.indent += 1
        value = self.vector_expr(s.value, offset)
        self.emit(f"*({utype}*)&{self.element(s.buffer, s.indices, offset, s)} = {value};")
        self.indent -= 1
        self.emit("}")

    def vector_expr(self, e: Expr, offset: str) -> str:
        """A piece of vector expression ``e`` (accepted by _vector_value_ok) as a vector value;
        ``offset`` is the piece's first lane."""
        if isinstance(e, BufferLoad):
            utype = _vector_type_name(_vector_elem(e.buffer.dtype), e.dtype.lanes, "u")
            return f"(*(const {utype}*)&{self.element(e.buffer, e.indices, offset, e)})"
        if isinstance(e, Broadcast):
            # s - {0} is s in every lane (also -0.0 and NaN); gcc folds the subtraction.
            elem = _vector_elem(e.dtype.element_of())
            return f"(({compute_type(elem)})({self.expr(e.value, None)}) - ({_vector_type_name(elem, e.dtype.lanes, 'v')}){{0}})"
        assert isinstance(e, BinOp)
        return f"({self.vector_expr(e.a, offset)} {_VECTOR_OPS[e.op]} {self.vector_expr(e.b, offset)})"

    def lane_var(self) -> str:
        """The C name of the lane loops' variable (one per function: lane loops never nest)."""
        if self.lane_name is None:
            self.lane_name = self.declare(Var("l", INT32))
        return self.lane_name

    def lane_loop(self, stores: list[BufferStore]) -> None:
        """``for (l) { <each store at lane l> }`` for stores with one lane_loop_key."""
        lv = self.lane_var()
        self.emit(f"for (int32_t {lv} = 0; {lv} < {stores[0].value.dtype.lanes}; ++{lv}) {{")
        self.indent += 1
        for s in stores:
            target = self.element(s.buffer, s.indices, lv, s)
            store = f"{target} = {self.to_storage(s.buffer.dtype, self.expr(s.value, lv))};"
            if s.predicate is not None:
                store = f"if ({self.expr(s.predicate, lv)}) {store}"
            self.emit(store)
        self.indent -= 1
        self.emit("}")

    def lane_loop_key(self, s: Stmt) -> tuple[int, str] | None:
        """(lanes, the stored element at a symbolic lane) when ``s`` is a vector store a lane
        loop renders correctly (lane_loop_safe), else None."""
        if not isinstance(s, BufferStore) or s.value.dtype.lanes == 1 or not self.lane_loop_safe(s):
            return None
        return s.value.dtype.lanes, self.element(s.buffer, s.indices, _LANE_PROBE, s)

    def lanes_fuse(self, a: BufferStore, b: BufferStore, lanes: int) -> bool:
        """Whether lane-loop-safe vector stores ``a`` then ``b`` may share one lane loop
        (``b`` at lane l runs before ``a`` at lanes above l).

        Stores to the same elements (``C += a0 * B0; C += a1 * B1``) may: lane l of each
        touches only element l of the stored buffer and memory neither writes. Otherwise
        every pair of accesses (one in each) to a buffer either writes must be ramps with
        one constant stride whose bases differ by a constant: 0 (the same lane) or at least
        the whole vector (no element in common), like the rows of a register tile
        ``C_local[r * 16 + l] += A[r, k] * B[k, l]``. Accesses to different buffers, when one
        is written, must be to memory known distinct (``restrict`` pointers, local arrays).
        """
        if self.lane_loop_key(a) == self.lane_loop_key(b):
            return True
        acc_a, acc_b = _vector_accesses(a), _vector_accesses(b)
        if acc_a is None or acc_b is None:
            return False
        written = {a.buffer.data, b.buffer.data}
        for data_a, index_a in acc_a:
            for data_b, index_b in acc_b:
                if data_a is not data_b:
                    if (data_a in written or data_b in written) and not (
                        data_a in self.distinct and data_b in self.distinct
                    ):
                        return False
                    continue
                if data_a not in written:
                    continue
                if not (isinstance(index_a, Ramp) and isinstance(index_b, Ramp)):
                    return False
                stride = int_value_of(index_a.stride)
                if stride is None or stride != int_value_of(index_b.stride):
                    return False
                d = const_difference(index_b.base, index_a.base)
                if d is None or (d != 0 and abs(d) < abs(stride) * lanes):
                    return False
        return True

    def lane_loop_safe(self, s: BufferStore) -> bool:
        """Whether a lane loop stores what the vector store does: no lane reads an element
        another lane writes, and no lane writes an element twice.

        The index must be a ramp with a constant nonzero stride (distinct elements). Every
        load of the stored buffer must be in the value at exactly the store's own element, so
        lane ``l`` reads only what lane ``l`` writes; any other load must be of memory known
        distinct from the stored buffer's. A pointer used as a value (passed to a call) could
        reach the buffer, and a shuffle needs constant lanes: both keep the temporary array.
        """
        if len(s.indices) != 1:
            return False
        index = s.indices[0]
        if not (isinstance(index, Ramp) and isinstance(index.stride, IntImm) and index.stride.value != 0):
            return False
        if index.lanes != s.value.dtype.lanes:
            return False
        parts = _VectorParts()
        parts.visit(s.value)
        in_value = len(parts.loads)
        parts.visit(index)
        if s.predicate is not None:
            parts.visit(s.predicate)
        if parts.opaque:
            return False
        data = s.buffer.data
        lane = _LANE_PROBE
        target: str | None = None
        for k, load in enumerate(parts.loads):
            if load.buffer.data is data:
                if k >= in_value:
                    return False
                if target is None:
                    target = self.element(s.buffer, s.indices, lane, s)
                if self.element(load.buffer, load.indices, lane, load) != target:
                    return False
            elif data not in self.distinct or load.buffer.data not in self.distinct:
                return False
        return True

    # ---- memory -------------------------------------------------------------------------
    def element(self, buf: Buffer, indices: tuple[Expr, ...], lane: Lane, node: Node) -> str:
        if len(indices) != 1:
            raise _error(f"access to {buf.name} has {len(indices)} indices; run FlattenBuffer first", node)
        index = indices[0]
        if index.dtype.lanes > 1 and lane is None:
            raise _error(f"vector index into {buf.name} in a scalar context", node)
        outer, self.in_index = self.in_index, True
        try:
            idx = self.expr(index, lane if index.dtype.lanes > 1 else None)
        finally:
            self.in_index = outer
        if buf.dtype.lanes > 1 and index.dtype.lanes == 1:
            # A buffer of vectors (TVM's ``T.alloc_local((4,), "float32x16")``): element i is
            # the scalars i * lanes .. i * lanes + lanes - 1 of the C array.
            if lane is None:
                raise _error(f"vector element of {buf.name} in a scalar context", node)
            idx = f"(({idx}) * {buf.dtype.lanes} + {lane})"
        if buf.elem_offset is not None and not (isinstance(buf.elem_offset, IntImm) and buf.elem_offset.value == 0):
            idx = f"{idx} + {self.expr(buf.elem_offset, None)}"
        ptr = self.name_of(buf.data)
        elem = self.pointer_elem(buf.data)
        want = storage_type(buf.dtype)
        if elem is None or storage_type(elem) != want:
            ptr = f"((const {want}*){ptr})" if buf.data in self.readonly else f"(({want}*){ptr})"
        return f"{ptr}[{idx}]"

    def to_storage(self, dtype: DataType, value: str) -> str:
        kind = _half_kind(dtype.element_of())
        return f"tir_f32_to_{kind}({value})" if kind else value

    def from_storage(self, dtype: DataType, value: str) -> str:
        kind = _half_kind(dtype.element_of())
        return f"tir_{kind}_to_f32({value})" if kind else value

    # ---- expressions ----------------------------------------------------------------------
    def expr(self, e: Expr, lane: Lane) -> str:
        method = getattr(self, "expr_" + type(e).__name__, None)
        if method is None:
            raise _error(f"expression {type(e).__name__} is not supported", e)
        result: str = method(e, lane)
        return result

    def _lane(self, e: Expr, lane: Lane) -> Lane:
        return lane if e.dtype.lanes > 1 else None

    def sub(self, e: Expr, lane: Lane) -> str:
        return self.expr(e, self._lane(e, lane))

    def expr_IntImm(self, e: IntImm, lane: Lane) -> str:
        if e.dtype.is_float:
            return _float_literal(float(e.value), e.dtype)
        return _int_literal(e.value, e.dtype)

    def expr_FloatImm(self, e: FloatImm, lane: Lane) -> str:
        if not e.dtype.is_float:
            return _int_literal(int(e.value), e.dtype)
        return _float_literal(e.value, e.dtype)

    def expr_StringImm(self, e: StringImm, lane: Lane) -> str:
        return _c_string(e.value)

    def expr_Var(self, e: Var, lane: Lane) -> str:
        name = self.name_of(e)
        if e in self.vector_vars:
            if lane is None:
                raise _error(f"vector variable {e.name} used as a scalar", e)
            return f"{name}[{lane}]"
        return name

    def _round(self, dtype: DataType, text: str) -> str:
        d = dtype.element_of()
        kind = _half_kind(d)
        if kind == "f16":
            return f"tir_f16_round({text})"
        # bfloat16 arithmetic stays in float until a store or cast rounds it, as TVM's
        # BF16ComputeLegalize does; float16 rounds every operation, as numpy does.
        if d.is_integer and not d.is_bool and d.bits < 32:
            return f"(({storage_type(d)}){text})"
        return text

    def reads_data(self, e: Expr) -> bool:
        """Whether ``e`` reads tensor data: a buffer load, or a var bound to such a value."""
        hit = self.data_memo.get(id(e))
        if hit is None:
            if isinstance(e, BufferLoad):
                hit = True
            elif isinstance(e, Var):
                hit = e in self.data_vars
            else:
                hit = any(self.reads_data(c) for _, v in child_values(e) for c in iter_nodes(v)
                          if isinstance(c, Expr))
            self.data_memo[id(e)] = hit
        return hit

    def computes_data(self, e: Expr) -> bool:
        """Whether ``e`` computes a tensor value, whose integer arithmetic must wrap and whose
        float-to-integer conversions must be defined as onnxruntime's are: it reads tensor
        data and is not part of a buffer index. Loop and index arithmetic stays plain C
        (signed overflow there would be a bug of its own, and gcc optimises it better when it
        may assume none)."""
        return not self.in_index and self.reads_data(e)

    def wraps(self, e: Expr) -> bool:
        """Whether ``e`` is int32 / int64 arithmetic on tensor values (computes_data)."""
        d = e.dtype.element_of()
        return d.is_int and d.bits in (32, 64) and self.computes_data(e)

    def expr_BinOp(self, e: BinOp, lane: Lane) -> str:
        a, b = self.sub(e.a, lane), self.sub(e.b, lane)
        operand = e.a.dtype.element_of()
        op = e.op
        if op in _ARITH_C:
            if self.wraps(e):
                # Two's complement wrap-around, as onnxruntime computes: signed overflow is
                # undefined in C, so the operation is done in the unsigned type of the same
                # width (which wraps, and is never promoted to int: int is 32 bits on every
                # target we support). Converting the out-of-range unsigned result back is
                # implementation-defined in C99, and defined as modulo 2^N by gcc and clang.
                u = f"uint{e.dtype.bits}_t"
                return f"(({storage_type(e.dtype)})(({u})({a}) {_ARITH_C[op]} ({u})({b})))"
            if op == "mul" and operand.is_uint and operand.bits == 16:
                # uint16_t is promoted to int, where 65535 * 65535 overflows: multiply as uint32_t.
                return self._round(e.dtype, f"((uint32_t)({a}) * {b})")
            return self._round(e.dtype, f"({a} {_ARITH_C[op]} {b})")
        if op in _COMPARE_C:
            return f"({a} {_COMPARE_C[op]} {b})"
        if op == "and":
            return f"({a} && {b})"
        if op == "or":
            return f"({a} || {b})"
        if op in ("min", "max"):
            ctype = compute_type(operand)
            if ctype in ("float", "double"):
                # Branch-free and bit-exact: tir_runtime.h's compare-mask select.
                return f"tir_{op}{'f' if ctype == 'float' else '_f64'}({a}, {b})"
            cmp = "<" if op == "min" else ">"
            return f"(({a}) {cmp} ({b}) ? ({a}) : ({b}))"
        if operand.is_float:
            suffix = "" if operand.bits == 64 and operand.code == "float" else "f"
            if op == "div":
                return self._round(e.dtype, f"({a} / {b})")
            if op == "floordiv":
                return self._round(e.dtype, f"floor{suffix}({a} / {b})")
            if op == "truncmod":
                return self._round(e.dtype, f"fmod{suffix}({a}, {b})")
            if op == "floormod":
                return self._round(e.dtype, f"({a} - floor{suffix}({a} / {b}) * {b})")
        else:
            if op in ("div", "truncmod") and self.wraps(e):
                # INT_MIN / -1 overflows (undefined in C, a trap on x86): the helpers give
                # INT_MIN and 0, as onnxruntime does.
                name = "div" if op == "div" else "mod"
                return f"tir_{name}_i{e.dtype.bits}({a}, {b})"
            if op == "div" or (op == "floordiv" and operand.is_uint):
                return self._round(e.dtype, f"({a} / {b})")
            if op == "truncmod" or (op == "floormod" and operand.is_uint):
                return self._round(e.dtype, f"({a} % {b})")
            if op in ("floordiv", "floormod"):
                ctype = storage_type(e.dtype)
                return f"(({ctype})tir_{op}((int64_t)({a}), (int64_t)({b})))"
        raise _error(f"operator {op} on {operand} is not supported", e)

    def expr_Not(self, e: Not, lane: Lane) -> str:
        return f"(!{self.sub(e.a, lane)})"

    def expr_Select(self, e: Select, lane: Lane) -> str:
        return f"({self.sub(e.condition, lane)} ? {self.sub(e.true_value, lane)} : {self.sub(e.false_value, lane)})"

    def expr_Cast(self, e: Cast, lane: Lane) -> str:
        value = self.sub(e.value, lane)
        target = e.dtype.element_of()
        if target.is_bool:
            return f"({value} != 0)"
        kind = _half_kind(target)
        if kind and kind.startswith("f8") and e.value.dtype.element_of().bits == 64 and e.value.dtype.is_float:
            return f"tir_{kind}_round(tir_f64_to_f32_odd({value}))"  # one rounding, not two
        if kind and kind != "f16":
            return f"tir_{kind}_round((float)({value}))"
        if kind:
            return self._round(target, f"((float)({value}))")
        if target.is_handle:
            return f"((void*)({value}))"
        if e.value.dtype.is_float and target.is_integer and target.bits in (8, 16, 32, 64) and self.computes_data(e):
            # A float out of the integer's range (or NaN) is undefined in C; the helpers give
            # what x86-64 code gives for onnxruntime's static_cast.
            if target.bits in (32, 64):
                return f"tir_f64_to_{'u' if target.is_uint else 'i'}{target.bits}({value})"
            return f"(({storage_type(target)})tir_f64_to_i32({value}))"
        return f"(({compute_type(target)})({value}))"

    def expr_BufferLoad(self, e: BufferLoad, lane: Lane) -> str:
        load = self.from_storage(e.buffer.dtype, self.element(e.buffer, e.indices, lane, e))
        if e.predicate is not None:
            return f"({self.sub(e.predicate, lane)} ? {load} : 0)"
        return load

    def expr_Ramp(self, e: Ramp, lane: Lane) -> str:
        if lane is None:
            raise _error("vector ramp in a scalar context", e)
        base = self.expr(e.base, None)
        if lane == 0:
            return base
        if isinstance(lane, str):
            if isinstance(e.stride, IntImm) and e.stride.value == 1:
                offset = lane
            else:
                stride = _int_literal(e.stride.value, e.stride.dtype) if isinstance(e.stride, IntImm) else self.expr(e.stride, None)
                offset = f"({stride} * {lane})"
            return offset if isinstance(e.base, IntImm) and e.base.value == 0 else f"({base} + {offset})"
        if isinstance(e.stride, IntImm):
            return f"({base} + {_int_literal(e.stride.value * lane, e.stride.dtype)})"
        return f"({base} + {self.expr(e.stride, None)} * {lane})"

    def expr_Broadcast(self, e: Broadcast, lane: Lane) -> str:
        return self.expr(e.value, None)

    def expr_Shuffle(self, e: Shuffle, lane: Lane) -> str:
        if lane is None:
            raise _error("vector shuffle in a scalar context", e)
        if isinstance(lane, str):
            raise _error("vector shuffle in a lane loop", e)
        index = e.indices[lane]
        if not isinstance(index, IntImm):
            raise _error("shuffle with a non-constant lane index", e)
        k = index.value
        for v in e.vectors:
            if k < v.dtype.lanes:
                return self.expr(v, k if v.dtype.lanes > 1 else None)
            k -= v.dtype.lanes
        raise _error("shuffle lane index out of range", e)

    def expr_Let(self, e: Let, lane: Lane) -> str:
        # A GNU statement expression keeps the binding local to the expression.
        name = self.declare(e.var)
        value = self.expr(e.value, None)
        if self.reads_data(e.value):
            self.data_vars.add(e.var)
        return f"({{ {compute_type(e.var.dtype)} {name} = {value}; ({self.sub(e.body, lane)}); }})"

    def expr_Call(self, e: Call, lane: Lane) -> str:
        """A builtin call, written as its entry in ``ir/builtins.py`` says: a C template or a
        renderer below (``_C_HOOKS``)."""
        info = BUILTINS.get(e.op)
        form = info.c if info is not None else None
        if form is None or info is None:
            raise _error(f"builtin T.{e.op} is not supported (run LowerIntrin, or use T.call_extern)", e)
        if isinstance(form, CUnsupported):
            raise _error(f"T.{e.op} ({form.reason}) is not supported", e)
        if isinstance(form, CTemplate):
            return self.c_template(form, info, e, lane)
        _check_ir_arity(info, e)
        return _C_HOOKS[form.name](self, e, lane)

    def c_template(self, form: CTemplate, info: BuiltinInfo, e: Call, lane: Lane) -> str:
        _check_ir_arity(info, e)
        parts = [self.sub(a, lane) for a in e.args] if form.per_lane else [self.expr(a, None) for a in e.args]
        text = form.text.format(*parts, args=", ".join(parts))
        return self._round(e.dtype, text) if form.rounded else text

    def extern_call(self, e: Call, lane: Lane) -> str:
        """``T.call_extern("float32", "f", x)``: ``f(x)``."""
        args = e.args
        if not isinstance(args[0], StringImm):
            raise _error(f"T.{e.op} needs the function name first", e)
        if not _C_NAME.fullmatch(args[0].value):
            # The name is pasted into the C as is: anything else could smuggle in code.
            raise _error(f"T.{e.op}: {args[0].value!r} is not a C function name", e)
        rendered = [self.sub(a, lane) for a in args[1:]]
        return f"{args[0].value}({', '.join(rendered)})"

    def address_of(self, e: Call, lane: Lane) -> str:
        load = e.args[0]
        if not isinstance(load, BufferLoad):
            raise _error("T.address_of needs a buffer element", e)
        return f"(&{self.element(load.buffer, load.indices, None, load)})"

    def reinterpret(self, e: Call, lane: Lane) -> str:
        src = e.args[-1]
        value = self.sub(src, lane)
        to, frm = e.dtype.element_of(), src.dtype.element_of()
        if to.is_handle or isinstance(e.ret_type, PointerType):
            ctype = storage_type(e.ret_type.element) + "*" if isinstance(e.ret_type, PointerType) and not e.ret_type.element.is_void else "void*"
            return f"(({ctype})({value}))"
        if to.bits != frm.bits:
            raise _error(f"T.reinterpret from {frm} to {to} changes the size", e)
        if _half_kind(to) or _half_kind(frm):
            # float16 / bfloat16 values are computed as float: their bits are the storage
            # form (TVM's BF16ComputeLegalize reinterprets bfloat16 loads as uint16).
            bits = self.to_storage(frm, value) if _half_kind(frm) else f"((uint16_t)({value}))"
            return self.from_storage(to, f"((uint16_t){bits})") if _half_kind(to) else f"(({storage_type(to)}){bits})"
        if to.is_float and to.bits == 32:
            return f"tir_u32_as_f32((uint32_t)({value}))"
        if to.is_float and to.bits == 64:
            return f"tir_u64_as_f64((uint64_t)({value}))"
        if frm.is_float and frm.bits == 32:
            return f"(({storage_type(to)})tir_f32_as_u32({value}))"
        if frm.is_float and frm.bits == 64:
            return f"(({storage_type(to)})tir_f64_as_u64({value}))"
        return f"(({storage_type(to)})({value}))"

    def cpacked_call(self, e: Call) -> str:
        """``T.call_cpacked("f", a, ..., resource_handle)``: a direct call of the packed
        function ``f`` of this module, its arguments in C99 compound literals (a TVMValue
        array and a type-code array that live until the end of the enclosing block)."""
        args = e.args
        if len(args) < 2 or not isinstance(args[0], StringImm):
            raise _error("T.call_cpacked needs the function name first and the resource handle last", e)
        name = args[0].value
        if name not in self.module_symbols:
            raise _error(f"T.call_cpacked of \"{name}\", which this module does not define (C calls packed "
                         "functions directly by symbol)", e)
        values: list[str] = []
        codes: list[str] = []
        for a in args[1:-1]:
            if isinstance(a, Call) and a.op == "tvm_stack_make_array":
                values.append(f"{{.v_handle = {self.expr(a, None)}}}")
                codes.append("kTVMDLTensorHandle")
            elif a.dtype.is_handle:
                values.append(f"{{.v_handle = (void*)({self.expr(a, None)})}}")
                codes.append("kTVMOpaqueHandle")
            elif a.dtype.is_float:
                values.append(f"{{.v_float64 = (double)({self.expr(a, None)})}}")
                codes.append("kTVMArgFloat")
            else:
                values.append(f"{{.v_int64 = (int64_t)({self.expr(a, None)})}}")
                codes.append("kTVMArgInt")
        n = len(values)
        value_arr = f"(TVMValue[]){{{', '.join(values)}}}" if n else "NULL"
        code_arr = f"(int32_t[]){{{', '.join(codes)}}}" if n else "NULL"
        resource = self.expr(args[-1], None)
        return f"{name}({value_arr}, {code_arr}, {n}, &(TVMValue){{.v_int64 = 0}}, &(int32_t){{0}}, {resource})"

    def int64_array(self, items: tuple[Expr, ...], e: Call) -> str:
        if not items:
            return "NULL"
        return f"(int64_t[]){{{', '.join(self.int64(a) for a in items)}}}"

    def int64(self, a: Expr) -> str:
        return str(a.value) if isinstance(a, IntImm) else f"(int64_t)({self.expr(a, None)})"

    def stack_make_array(self, e: Call) -> str:
        """``T.tvm_stack_make_array(data, shape, strides, ndim, dtype_value, elem_offset)``: a
        CPU DLTensor in a compound literal (TVM's stack, kept by the enclosing block)."""
        data, shape, strides, ndim, carrier, offset = e.args

        def dims(a: Expr) -> str:
            if isinstance(a, IntImm) and a.value == 0:
                return "NULL"
            if isinstance(a, Call) and a.op == "tvm_stack_make_shape":
                return self.int64_array(a.args, a)
            return f"((int64_t*)({self.expr(a, None)}))"

        d = carrier.dtype
        code = {"int": 0, "uint": 1, "float": 2, "bfloat": 4, "bool": 6}.get(d.code, 3)
        bits = 8 if d.is_bool else d.bits
        size = max((bits * d.lanes + 7) // 8, 1)
        rank = str(ndim.value) if isinstance(ndim, IntImm) else f"(int32_t)({self.expr(ndim, None)})"
        byte_offset = "0" if isinstance(offset, IntImm) and offset.value == 0 else f"(uint64_t)({self.expr(offset, None)}) * {size}"
        return (f"(&(DLTensor){{(void*)({self.expr(data, None)}), {{kDLCPU, 0}}, {rank}, {{{code}, {bits}, {d.lanes}}}, "
                f"{dims(shape)}, {dims(strides)}, {byte_offset}}})")

    def struct_get(self, e: Call) -> str:
        handle, index, kind = e.args[0], e.args[1], e.args[2]
        if not isinstance(index, IntImm) or not isinstance(kind, IntImm):
            raise _error("T.tvm_struct_get needs constant index and kind", e)
        h = self.expr(handle, None)
        k, i = kind.value, index.value
        if k == 0:
            return f"((void*)&((DLTensor*)({h}))[{i}])"
        if k in _DLTENSOR_FIELDS:
            return f"(((DLTensor*)({h}))[{i}].{_DLTENSOR_FIELDS[k]})"
        if k == 12:
            d = e.dtype
            member = "v_handle" if d.is_handle else "v_float64" if d.is_float else "v_int64"
            return f"(((TVMValue*)({h}))[{i}].{member})"
        if k == 17:
            return f"(((int64_t*)({h}))[{i}])"
        if k == _FFI_ANY_TYPE_INDEX:
            return f"(((TVMFFIAny*)({h}))[{i}].type_index)"
        if k == _FFI_ANY_ZERO_PADDING:
            return f"(((TVMFFIAny*)({h}))[{i}].zero_padding)"
        if k == _FFI_ANY_VALUE:
            d = e.dtype
            member = "v_ptr" if d.is_handle else "v_float64" if d.is_float else "v_int64"
            return f"(((TVMFFIAny*)({h}))[{i}].value.{member})"
        raise _error(f"T.tvm_struct_get field kind {k} is not a DLTensor, TVMValue or TVMFFIAny field", e)


def int_value_of(e: Expr) -> int | None:
    return e.value if isinstance(e, IntImm) else None


def _vector_accesses(s: BufferStore) -> list[tuple[Var, Expr]] | None:
    """(data var, single index) of the store and of every load in its value, or None when
    some access has several indices."""
    parts = _VectorParts()
    parts.visit(s.value)
    out = []
    accesses: list[BufferStore | BufferLoad] = [s, *parts.loads]
    for node in accesses:
        if len(node.indices) != 1:
            return None
        out.append((node.buffer.data, node.indices[0]))
    return out


class _VectorParts(IRVisitor):
    """The loads of a vector expression, and whether it holds something a lane loop cannot
    render or whose memory effects are unknown (a shuffle, a pointer used as a value)."""

    def __init__(self) -> None:
        self.loads: list[BufferLoad] = []
        self.opaque = False

    def visit_BufferLoad(self, node: BufferLoad) -> None:
        self.loads.append(node)
        self.generic_visit(node)

    def visit_Shuffle(self, node: Shuffle) -> None:
        self.opaque = True

    def visit_Var(self, node: Var) -> None:
        if node.dtype.is_handle:
            self.opaque = True


# Element types of the vector branch: stored as they are computed (16-bit floats are
# computed in float, bool has no vector form) and sized for GCC's vector_size.
_VECTOR_ELEMENTS = frozenset(
    [DataType("float", 32, 1), DataType("float", 64, 1)]
    + [DataType(code, bits, 1) for code in ("int", "uint") for bits in (8, 16, 32, 64)]
)
_VECTOR_MAX_BYTES = 256
_VECTOR_OPS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _vector_elem(elem: DataType) -> DataType:
    """The element type the vector branch computes ``elem`` in: signed integers as the
    unsigned type of their width, so that the arithmetic wraps as the scalar form does
    (expr_BinOp) instead of overflowing; the bits stored are the same."""
    return DataType("uint", elem.bits, 1) if elem.is_int else elem


def _vector_type_name(elem: DataType, lanes: int, kind: str) -> str:
    """``tir_vf32x16`` (kind "v", a vector of TIR_VB(64) bytes) or ``tir_uf32x16`` (kind "u",
    the same vector aligned as one element and may_alias, for loads and stores)."""
    letter = {"float": "f", "int": "i", "uint": "u"}[elem.code]
    return f"tir_{kind}{letter}{elem.bits}x{lanes}"


def _vector_typedefs(types: set[tuple[DataType, int]]) -> list[str]:
    out = []
    for elem, lanes in sorted(types, key=lambda t: (t[0].code, t[0].bits, t[1])):
        size, ctype = lanes * elem.bits // 8, storage_type(elem)
        out.append(f"typedef {ctype} {_vector_type_name(elem, lanes, 'v')} __attribute__((vector_size(TIR_VB({size}))));")
        out.append(f"typedef {ctype} {_vector_type_name(elem, lanes, 'u')} "
                   f"__attribute__((vector_size(TIR_VB({size})), aligned({elem.bits // 8}), may_alias));")
    return out


def _contiguous(indices: tuple[Expr, ...], lanes: int) -> bool:
    """A single index that is a ramp of stride 1 over ``lanes`` elements."""
    if len(indices) != 1:
        return False
    index = indices[0]
    return (isinstance(index, Ramp) and isinstance(index.stride, IntImm) and index.stride.value == 1
            and index.lanes == lanes and index.base.dtype.lanes == 1)


def _vector_value_ok(e: Expr, elem: DataType, lanes: int) -> bool:
    """Whether the vector branch renders ``e``: contiguous loads of ``elem``, broadcasts of a
    scalar, and + - * (/ on floats; none on int8 / int16) of those, all ``lanes`` wide."""
    if e.dtype != elem.with_lanes(lanes):
        return False
    if isinstance(e, BufferLoad):
        return e.buffer.dtype == elem and e.predicate is None and _contiguous(e.indices, lanes)
    if isinstance(e, Broadcast):
        return e.value.dtype.lanes == 1
    if isinstance(e, BinOp) and e.op in _VECTOR_OPS and (e.op != "div" or elem.is_float):
        if elem.is_int and elem.bits < 32:
            # C computes int8 / int16 in int and wraps when it narrows; a vector of them
            # would overflow (undefined): only their loads and stores are vectors.
            return False
        return _vector_value_ok(e.a, elem, lanes) and _vector_value_ok(e.b, elem, lanes)
    return False


def _check_ir_arity(info: BuiltinInfo, e: Call) -> None:
    n = len(e.args)
    if n < info.ir_min_args or (info.ir_max_args is not None and n > info.ir_max_args):
        # JSON IR is not checked as text is.
        raise _error(f"T.{e.op} takes {info.arity_text(ir=True)} argument(s) in lowered IR, got {n}", e)


# The C renderers the builtin table names by CHook.
_C_HOOKS: dict[str, Callable[[_FunctionEmitter, Call, Lane], str]] = {
    "extern_call": _FunctionEmitter.extern_call,
    "reinterpret": _FunctionEmitter.reinterpret,
    "address_of": _FunctionEmitter.address_of,
    "struct_get": lambda em, e, lane: em.struct_get(e),
    "cpacked_call": lambda em, e, lane: em.cpacked_call(e),
    "stack_make_array": lambda em, e, lane: em.stack_make_array(e),
    "stack_make_shape": lambda em, e, lane: em.int64_array(e.args, e),
}


def _is_workspace_alloc(value: Expr) -> bool:
    return isinstance(value, Call) and value.op == "TVMBackendAllocWorkspace"


def _is_tensor_data(value: Expr) -> bool:
    """``T.tvm_struct_get(handle, i, 1)``: the data pointer of a DLTensor argument (TVM's
    packed text wraps it in a ``T.reinterpret`` to the element pointer type)."""
    if isinstance(value, Call) and value.op == "reinterpret" and value.args:
        value = value.args[-1]
    return (isinstance(value, Call) and value.op == "tvm_struct_get" and len(value.args) == 3
            and isinstance(value.args[2], IntImm) and value.args[2].value == 1)


def c_symbol(f: PrimFunc) -> str:
    """The C name of ``f``: its global symbol, except that ``main`` (C's program entry, TVM's
    default function name) becomes ``main_func``."""
    sym = re.sub(r"[^A-Za-z0-9_]", "_", f.global_symbol)
    return "main_func" if sym == "main" else sym


# Put before the header's include by ``emit_c(..., sse_vectors=True)``.
_SSE_VECTORS = [
    "/* The vector branch on baseline x86-64 too (16-byte vectors): these operators' GEMM tiles",
    "   stay in registers (tir_runtime.h says more). -DTIR_NO_VECTOR_EXT turns it off. */",
    "#if !defined(TIR_VEC_BYTES) && !defined(TIR_NO_VECTOR_EXT) && defined(__GNUC__) && defined(__SSE2__)",
    "#define TIR_VEC_BYTES 16",
    "#endif",
]


def emit_c(mod: IRModule, sse_vectors: bool = False) -> str:
    """C99 source for every function of ``mod`` (lowered by the pipeline), including
    ``tir_runtime.h``; ``sse_vectors`` turns the vector branch on for SSE2 targets too (the
    header does for AVX). Raises CompilerError (TIR202) for what C cannot express here."""
    symbols = {c_symbol(f) for f in mod.functions}
    bodies: list[tuple[str, list[str]]] = []
    vector_types: set[tuple[DataType, int]] = set()
    for f in mod.functions:
        emitter = _FunctionEmitter(f, symbols, vector_ext=True)
        sig, lines = emitter.run()
        if emitter.vector_types:
            # Vector stores became whole vectors: the plain C99 body (lane loops) is the
            # fallback where TIR_VEC_BYTES is not defined (tir_runtime.h decides).
            vector_types |= emitter.vector_types
            _, plain = _FunctionEmitter(f, symbols).run()
            lines = ["#ifdef TIR_VEC_BYTES", *lines, "#else", *plain, "#endif"]
        bodies.append((sig, lines))
    out = [
        "/* Generated by tir-lsp's compiler; compile with -std=c99 and link with -lm. */",
        *(_SSE_VECTORS if sse_vectors and vector_types else []),
        f'#include "{HEADER_NAME}"',
        "",
    ]
    if vector_types:
        out += ["#ifdef TIR_VEC_BYTES", *_vector_typedefs(vector_types), "#endif", ""]
    for sig, _ in bodies:
        out.append(f"{sig};")
    for sig, lines in bodies:
        out.append("")
        out.append(f"{sig} {{")
        out.extend(lines)
        out.append("}")
    return "\n".join(out) + "\n"
