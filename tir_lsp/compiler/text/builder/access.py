"""Buffer accesses: loads ``A[i, j]``, vector slices ``A[b:b + 4]``, regions ``A[v, 0:16]``,
``A.shape[k]``, ``A.data``, ``A.vload`` / ``A.vstore``.
"""

from __future__ import annotations

from tir_lsp.compiler.diagnostics import WARNING
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import BOOL_T, INT32, DataType
from tir_lsp.compiler.ir.expr import (
    BufferLoad,
    BufferRegion,
    Expr,
    IntImm,
    Ramp,
    Range,
    StringImm,
    TypeLiteral,
    Var,
    index_lanes,
)
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import Allocate, AllocateConst, BufferStore, Stmt
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.core import Binding, Drop
from tir_lsp.compiler.text.builder.expressions import ExprBuilder
from tir_lsp.compiler.text.builder.forms import (
    NAMESPACES,
    argument,
    call_name,
    keyword,
    literal_value,
    scalable_lanes,
    t_name,
)


def _same_syntax(a: object, b: object) -> bool:
    """Whether two syntax trees are the same ignoring spans."""
    if isinstance(a, Span) and isinstance(b, Span):
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same_syntax(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _constant_difference(stop: S.SExpr, start: S.SExpr) -> int | None:
    """``stop - start`` when it is a constant: both numbers, or stop = start + n."""
    a, b = literal_value(stop), literal_value(start)
    if isinstance(a, int) and isinstance(b, int):
        return a - b
    if isinstance(stop, S.BinaryOp) and stop.op == "+":
        n = literal_value(stop.right)
        if (n is None and isinstance(stop.right, S.Call) and len(stop.right.args) == 1
                and call_name(stop.right) in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")):
            n = literal_value(stop.right.args[0])  # ``start:start + T.int64(8)``
        if isinstance(n, int) and _same_syntax(stop.left, start):
            return n
    return None


class BufferAccess(ExprBuilder):
    """Builds buffer loads, regions and vector accesses."""

    def _expr_Attribute(self, e: S.Attribute, hint: DataType | None) -> Expr:
        if e.attr == "ty" and isinstance(e.value, S.Call) and call_name(e.value) == "handle":
            return TypeLiteral(self.type_annotation(e.value), span=e.span)
        if e.attr == "ty" and isinstance(e.value, S.Call):
            return TypeLiteral(self.type_annotation(e.value), span=e.span)
        if (isinstance(e.value, S.Name) and e.value.id not in NAMESPACES
                or isinstance(e.value, S.Attribute) and e.value.attr in ("source", "buffer")):
            buf = self.buffer_named(e.value)
            if e.attr == "data":
                return buf.data
            if e.attr == "elem_offset":
                return buf.elem_offset if buf.elem_offset is not None else IntImm(INT32, 0, span=e.attr_span)
            if e.attr in ("shape", "strides"):
                raise self.fail("TIR005", f"'{e.value.id}.{e.attr}' is a tuple; index it: {e.value.id}.{e.attr}[0]", e.span)
            raise self.fail("TIR005", f"buffer attribute '.{e.attr}' is not supported here", e.attr_span)
        name = t_name(e)
        if name is not None:
            info = lookup_builtin(name)
            if info is None:
                self.error("TIR004", f"unknown builtin T.{name}", e.span, WARNING)
            raise self.fail("TIR005", f"T.{name} is not a value here (call it?)", e.span)
        raise self.fail("TIR005", "attribute access is not a TIR expression here", e.span)

    def _expr_Subscript(self, e: S.Subscript, hint: DataType | None) -> Expr:
        if self.metadata_ref(e) is not None:
            ref = self.metadata_ref(e)
            assert ref is not None
            return StringImm(f"<metadata {ref.kind}[{ref.index}]>", ref, span=e.span)
        if (isinstance(e.value, S.Attribute) and e.value.attr in ("shape", "strides")
                and isinstance(e.value.value, S.Name)):
            return self._shape_entry(e.value, e.indices)
        buf = self.buffer_named(e.value)
        indices = self.indices(buf, e.indices)
        lanes = index_lanes(indices)
        dt = buf.dtype.with_lanes(lanes) if lanes != 1 else buf.dtype
        return BufferLoad(buf, indices, dt, span=e.span)

    def _shape_entry(self, attr: S.Attribute, items: tuple[S.SExpr, ...]) -> Expr:
        """``A.shape[i]`` / ``A.strides[i]``: the entry itself, as TVM reads it."""
        buf = self.buffer_named(attr.value)
        dims = buf.shape if attr.attr == "shape" else buf.strides
        k = self.const_int(items[0], f"index of {attr.attr}") if len(items) == 1 else None
        if k is None or not -len(dims) <= k < len(dims):
            raise self.fail("TIR014", f"'{buf.name}.{attr.attr}' has {len(dims)} entries", attr.span)
        return dims[k]

    def buffer_named(self, e: S.SExpr) -> Buffer:
        if isinstance(e, S.Attribute) and e.attr in ("source", "buffer") and isinstance(e.value, S.Name):
            # ``x.source`` / ``x.buffer``: the one-element buffer holding scalar ``x``.
            buf = self.buffer_named(e.value)
            b = self.lookup(e.value.id)
            if b is None or not (b.mutable or self.scalar_like(buf)):
                raise self.fail("TIR019", f"'{e.value.id}' is not a scalar; '.{e.attr}' is the buffer of a scalar", e.span)
            return buf
        if not isinstance(e, S.Name):
            raise self.fail("TIR005", "only a buffer name can be indexed", e.span)
        b = self.lookup(e.id)
        if b is None:
            if not self.suppress_undefined:
                self.error("TIR010", f"undefined buffer '{e.id}'", e.span)
            raise Drop()
        self.refer(e.span, b.obj)
        if not isinstance(b.obj, Buffer):
            implied = self._allocated_buffer(b)
            if implied is not None:
                return implied
            raise self.fail("TIR019", f"'{e.id}' is not a buffer", e.span)
        return b.obj

    def _allocated_buffer(self, b: Binding) -> Buffer | None:
        """The buffer a pointer from ``K = T.allocate(...)`` / ``T.allocate_const(...)``
        stands for when it is indexed directly (``K[x]``, TVM 0.8-0.9 text): its dtype and
        extents, over its memory; one per pointer."""
        if b.kind not in ("allocate", "allocate_const") or not isinstance(b.obj, Var):
            return None
        buf = self.implied_buffers.get(id(b.obj))
        if buf is None:
            d = self.index.definition_of(b.obj)
            node = d.node if d is not None else None
            if not isinstance(node, (Allocate, AllocateConst)):
                return None
            buf = Buffer(b.obj.name, b.obj, node.dtype, node.extents, span=b.obj.span)
            self.implied_buffers[id(b.obj)] = buf
        return buf

    def indices(self, buf: Buffer, items: tuple[S.SExpr, ...]) -> tuple[Expr, ...]:
        if len(items) == 1 and type(items[0]) is S.TupleExpr and not items[0].elts:
            return ()  # ``S[()]``: the element of a zero-dimensional buffer
        out: list[Expr] = []
        for k, x in enumerate(items):
            if isinstance(x, S.Slice):
                out.append(self._slice_ramp(x, buf.shape[k].dtype if k < len(buf.shape) else INT32))
                continue
            dim_dt = buf.shape[k].dtype if k < len(buf.shape) and buf.shape[k].dtype.is_int else INT32
            out.append(self.expr(x, dim_dt))
        return tuple(out)

    def _slice_ramp(self, x: S.Slice, dim_dt: DataType) -> Expr:
        """``A[b:b + 16]`` (a vector access) -> Ramp(b, 1, 16); the lane count must be a
        constant: stop is written as start plus a number, as TVM prints it."""
        if x.start is None or x.stop is None:
            raise self.fail("TIR019", "a vector slice needs a start and a stop", x.span)
        base = self.expr(x.start, dim_dt if dim_dt.is_int else INT32)
        if not (base.dtype.is_int or base.dtype.is_uint):
            raise self.fail("TIR019", f"a vector slice needs an integer start, not {base.dtype}", x.start.span)
        stride = self.expr(x.step, base.dtype) if x.step is not None else IntImm(base.dtype, 1)
        width = _constant_difference(x.stop, x.start)
        scalable = scalable_lanes(x.stop) if literal_value(x.start) == 0 else None
        if (scalable is None and isinstance(x.stop, S.BinaryOp) and x.stop.op == "+"
                and _same_syntax(x.stop.left, x.start)):
            scalable = scalable_lanes(x.stop.right)  # ``b:b + T.vscale() * 4``
        if scalable is not None:  # ``A[0:T.vscale() * 4]``, ``A[b:b + T.vscale() * 8:2]``
            self.expr(x.stop, base.dtype)
            step = stride.value if isinstance(stride, IntImm) and stride.value > 0 else 1
            return Ramp(base, stride, -max(scalable // step, 1), span=x.span)
        if width is None:
            raise self.fail("TIR019", "the length of a vector slice must be a constant (start:start + n)", x.span)
        # Visit the stop for references; its value is implied by start and lanes.
        self.expr(x.stop, base.dtype)
        step = stride.value if isinstance(stride, IntImm) and stride.value > 0 else 1
        lanes = (width + step - 1) // step
        return Ramp(base, stride, lanes, span=x.span)

    def region(self, e: S.SExpr) -> BufferRegion:
        """``A[v_i, 0:16]`` -> BufferRegion; a bare ``A`` is the whole buffer."""
        if isinstance(e, S.Name):
            buf = self.buffer_named(e)
            return BufferRegion(buf, tuple(Range(IntImm(s.dtype, 0), s) for s in buf.shape), span=e.span)
        if not isinstance(e, S.Subscript):
            raise self.fail("TIR019", "expected a buffer region such as A[i, 0:16]", e.span)
        buf = self.buffer_named(e.value)
        if len(e.indices) == 1 and type(e.indices[0]) is S.TupleExpr and not e.indices[0].elts:
            return BufferRegion(buf, (), span=e.span)  # ``S[()]``: a zero-dimensional buffer
        ranges: list[Range] = []
        for k, x in enumerate(e.indices):
            dim_dt = buf.shape[k].dtype if k < len(buf.shape) and buf.shape[k].dtype.is_int else INT32
            if isinstance(x, S.Slice):
                lo = self.expr(x.start, dim_dt) if x.start is not None else IntImm(dim_dt, 0)
                if x.stop is not None:
                    hi = self.expr(x.stop, lo.dtype)
                elif k < len(buf.shape):
                    hi = buf.shape[k]
                else:
                    raise self.fail("TIR014", "slice without a stop beyond the buffer's rank", x.span)
                if isinstance(lo, IntImm) and isinstance(hi, IntImm):
                    # One dtype for both ends (a wide stop widens the start), so the printer
                    # can write the stop back as one literal.
                    lo = IntImm(hi.dtype, lo.value, span=lo.span) if lo.dtype != hi.dtype else lo
                    ext: Expr = IntImm(hi.dtype, hi.value - lo.value, span=x.span)
                elif isinstance(lo, IntImm) and lo.value == 0:
                    ext = hi
                else:
                    ext = self.binop("sub", hi, lo, x.span)
                ranges.append(Range(lo, ext, span=x.span))
            else:
                idx = self.expr(x, dim_dt)
                ranges.append(Range(idx, IntImm(idx.dtype if idx.dtype.is_int else INT32, 1), span=x.span))
        return BufferRegion(buf, tuple(ranges), span=e.span)

    def _vector_access(self, e: S.Call, what: str) -> tuple[Buffer, tuple[Expr, ...], Expr | None]:
        """The buffer, indices and predicate of ``A.vload([i, j], predicate=p)`` /
        ``A.vstore([i, j], v, predicate=p)``."""
        assert isinstance(e.func, S.Attribute)
        buf = self.buffer_named(e.func.value)
        idx_e = argument(e, 0, "indices")
        if idx_e is None:
            raise self.fail("TIR012", f"{what} needs a list of indices", e.span)
        items = idx_e.elts if isinstance(idx_e, (S.ListExpr, S.TupleExpr)) else (idx_e,)
        indices = self.indices(buf, items)
        pred_e = keyword(e, "predicate")
        pred = self.expr(pred_e, BOOL_T) if pred_e is not None else None
        return buf, indices, pred

    def vload(self, e: S.Call) -> Expr:
        buf, indices, pred = self._vector_access(e, "A.vload")
        dt_e = keyword(e, "dtype")
        lanes = index_lanes(indices)
        dt = self.dtype_arg(dt_e) if dt_e is not None else buf.dtype.with_lanes(lanes)
        return BufferLoad(buf, indices, dt, pred, span=e.span)

    def vstore(self, e: S.Call, span: Span) -> Stmt:
        buf, indices, pred = self._vector_access(e, "A.vstore")
        val_e = argument(e, 1, "value")
        if val_e is None:
            raise self.fail("TIR012", "A.vstore needs a value", e.span)
        lanes = index_lanes(indices)
        value = self.coerce(self.expr(val_e, buf.dtype.with_lanes(lanes)), buf.dtype.with_lanes(lanes))
        return BufferStore(buf, value, indices, pred, span=span)
