"""Buffer declarations: ``T.Buffer`` parameters, ``T.alloc_buffer`` / ``T.decl_buffer`` /
``T.match_buffer``, scalars, ``T.allocate`` / ``T.allocate_const``, and views of a buffer
(``A.view``, ``A.permute``, ``A.local``).
"""

from __future__ import annotations

from typing import Any, Literal

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, HANDLE_T, INT32, DataType, PointerType
from tir_lsp.compiler.ir.expr import BufferLoad, Expr, IntImm, Var
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    BufferStore,
    DeclBuffer,
    MatchBufferRegion,
    Stmt,
)
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.attributes import AttrBuilder
from tir_lsp.compiler.text.builder.forms import argument, call_name, keyword, literal_value
from tir_lsp.compiler.text.kernel_dialect import memory_span


def _placed(node: Any, span: Span) -> Any:
    """A syntax tree with every span replaced by ``span`` (an expression read from a string)."""
    if isinstance(node, Span):
        return span
    if isinstance(node, tuple) and hasattr(node, "_replace") and hasattr(node, "_fields"):  # a syntax node
        return node._replace(**{f: _placed(getattr(node, f), span) for f in node._fields})
    if isinstance(node, tuple):
        return tuple(_placed(x, span) for x in node)
    return node


def _reads_buffer(e: Expr) -> bool:
    from tir_lsp.compiler.ir.visitor import walk

    found: list[object] = []
    walk(e, lambda n: found.append(n) if isinstance(n, BufferLoad) else None)
    return bool(found)


class BufferBuilder(AttrBuilder):
    """Builds buffer declarations."""

    def make_buffer(self, name: str, name_span: Span, call: S.Call, size_vars: bool = False,
                     shape_pos: int = 0, dtype_pos: int = 1,
                     data: Var | None = None, default_scope: str = "global") -> Buffer:
        """A Buffer from the arguments of T.Buffer / alloc_buffer / decl_buffer / match_buffer."""
        shape_e = argument(call, shape_pos, "shape")
        if shape_e is None:
            raise self.fail("TIR012", f"T.{call_name(call)} needs a shape", call.span)
        shape = self._shape(shape_e, size_vars)
        dtype = FLOAT32
        dt_e = argument(call, dtype_pos, "dtype")
        if dt_e is not None:
            dtype = self.dtype_arg(dt_e)
        scope = default_scope
        sc = keyword(call, "scope")
        if sc is not None:
            scope = self.const_str(sc, "scope")
        strides: tuple[Expr, ...] = ()
        st = keyword(call, "strides")
        if st is not None and not (isinstance(st, S.Constant) and st.value is None):
            strides = self._shape(st, size_vars)
        elem_offset: Expr | None = None
        eo = keyword(call, "elem_offset")
        if eo is not None and not (isinstance(eo, S.Constant) and eo.value is None):
            elem_offset = self._shape_elem(eo, size_vars)
        align = self.const_int_kw(call, "align", 0)
        offset_factor = self.const_int_kw(call, "offset_factor", 0)
        buffer_type = "default"
        bt = keyword(call, "buffer_type")
        if bt is not None:
            buffer_type = self.const_str(bt, "buffer_type")
        axis_separators: tuple[int, ...] = ()
        ax = keyword(call, "axis_separators")
        if isinstance(ax, (S.ListExpr, S.TupleExpr)):
            axis_separators = tuple(self.const_int(x, "axis separator") for x in ax.elts)
        layout: Expr | None = None
        lay = keyword(call, "layout")
        if lay is not None:  # an explicit ``layout=None`` (no layout) is not TVM's default layout
            layout = self.py_value(lay)
        if elem_offset is None and offset_factor:
            # TVM gives such a buffer an offset var of its own, read as ``A.elem_offset``.
            elem_offset = Var(f"{name}_elem_offset", shape[0].dtype if shape else INT32, span=name_span)
        if data is None:
            data = Var(name, HANDLE_T, PointerType(dtype, scope), span=name_span)
        addr_e = keyword(call, "allocated_addr")
        addr: tuple[Expr, ...] = ()
        if addr_e is not None and not (isinstance(addr_e, S.Constant) and addr_e.value is None):
            addr = self._shape(addr_e, False)
        return Buffer(name, data, dtype, shape, strides, elem_offset, scope, align, offset_factor,
                      buffer_type, axis_separators, layout=layout, allocated_addr=addr, span=name_span)

    def _string_expr(self, e: S.Constant) -> S.SExpr:
        """The expression a quoted shape entry spells, every node placed on the string."""
        from tir_lsp.compiler.text.parser import parse_module

        tree, diags = parse_module(f"_ = ({e.value})\n")
        first = tree.body[0] if tree.body else None
        if diags or "\n" in str(e.value) or not isinstance(first, S.Assign):
            raise self.fail("TIR019", f"the shape entry {e.text or repr(e.value)} is not an expression", e.span)
        return _placed(first.value, e.span)

    def _shape(self, e: S.SExpr, size_vars: bool) -> tuple[Expr, ...]:
        if isinstance(e, (S.TupleExpr, S.ListExpr)):
            return tuple(self._shape_elem(x, size_vars) for x in e.elts)
        return (self._shape_elem(e, size_vars),)

    def _shape_elem(self, e: S.SExpr, size_vars: bool) -> Expr:
        """A shape/stride entry; in a param annotation a quoted or unknown name is a new size var."""
        if isinstance(e, S.Constant) and isinstance(e.value, str) and not e.value.isidentifier():
            # ``T.Buffer(("M * N",))``: TVM reads the string as an expression of sizes.
            return self._shape_elem(self._string_expr(e), size_vars)
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            b = self.lookup(e.value)
            if b is not None and isinstance(b.obj, Var):
                self.refer(e.span, b.obj)
                return b.obj
            v = Var(e.value, INT32, span=e.span)
            self.define(e.value, e.span, v, "size_var")
            return v
        if size_vars and isinstance(e, S.Name) and self.lookup(e.id) is None:
            v = Var(e.id, INT32, span=e.span)
            self.define(e.id, e.span, v, "size_var")
            return v
        x = self.expr(e, INT32)
        if size_vars and not isinstance(x, (IntImm, Var)) and _reads_buffer(x):
            # A scalar buffer is a statement's business: the printer hoists parameter
            # buffers above it, and a shape is fixed when the buffer is made.
            raise self.fail("TIR019", "a buffer shape cannot read a buffer; use a var (n = T.int32())", e.span)
        return x

    def scalar_alloc(self, tgt: S.Name, dt: DataType, value: Expr | None, span: Span) -> list[Stmt]:
        data = Var(tgt.id, HANDLE_T, PointerType(dt, "local"), span=tgt.span)
        buf = Buffer(tgt.id, data, dt, (IntImm(INT32, 1),), scope="local", span=tgt.span)
        alloc = AllocBuffer(buf, scalar=True, span=span)
        self.define(tgt.id, tgt.span, buf, "scalar", alloc, mutable=True)
        if value is None:
            return [alloc]
        return [alloc, BufferStore(buf, self.coerce(value, dt), (IntImm(INT32, 0),), span=span)]

    def scalar_decl(self, tgt: S.Name, call: S.Call, name: str, span: Span) -> list[Stmt]:
        """``x = T.alloc_scalar(T.float32, scope="shared")`` (and ``T.local_scalar``,
        ``T.shared_scalar``), ``x = T.decl_scalar(T.float32, data=p, elem_offset=0)``: a
        one-element buffer read as ``x`` and written as ``x = v``, as TVM 0.27 prints them."""
        dt_e = argument(call, 0, "dtype")
        if dt_e is None:
            raise self.fail("TIR012", f"T.{name} needs a dtype", call.span)
        dtype = self.dtype_arg(dt_e)
        default_scope = {"local_scalar": "local", "shared_scalar": "shared"}.get(name, "global")
        sc = keyword(call, "scope")
        scope = self.const_str(sc, "scope") if sc is not None else default_scope
        if name != "decl_scalar":
            data = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
            buf = Buffer(tgt.id, data, dtype, (IntImm(INT32, 1),), scope=scope, span=tgt.span)
            alloc = AllocBuffer(buf, scalar=True, span=span)
            self.define(tgt.id, tgt.span, buf, "scalar", alloc, mutable=True)
            return [alloc]
        data_e = keyword(call, "data")
        data_var: Var | None = None
        data_value: Expr | None = None
        if data_e is not None:
            dv = self.expr(data_e)
            data_var, data_value = (dv, None) if isinstance(dv, Var) else (None, dv)
        eo_e = keyword(call, "elem_offset")
        elem_offset = self.expr(eo_e, INT32) if eo_e is not None else None
        if data_var is None:
            data_var = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
        buf = Buffer(tgt.id, data_var, dtype, (IntImm(INT32, 1),), elem_offset=elem_offset, scope=scope,
                     span=tgt.span)
        node = DeclBuffer(buf, "decl_scalar", data_value=data_value, span=span)
        self.define(tgt.id, tgt.span, buf, "scalar", node, mutable=True)
        return [node]

    def block_alloc(self, tgt: S.Name, call: S.Call,
                    kind: Literal["alloc_buffer", "sblock_alloc_buffer"]) -> list[Stmt]:
        self.check_arity(kind, call)
        buf = self.make_buffer(tgt.id, tgt.span, call)
        ann = keyword(call, "annotations")
        if ann is not None:
            buf = buf.with_(annotations=self.attr_dict(ann))
        frame = self.frames[-1] if self.frames else None
        if frame is None:
            raise self.fail("TIR019", f"T.{kind} outside a function body", call.span)
        frame.alloc_buffers.append(buf)
        self.define(tgt.id, tgt.span, buf, kind, buf)
        return []

    def match_buffer(self, tgt: S.Name, call: S.Call) -> list[Stmt]:
        self.check_arity("match_buffer", call)
        src = call.args[0]
        if isinstance(src, S.Subscript):
            frame = self.frames[-1] if self.frames else None
            region = self.region(src)
            buf = self.make_buffer(tgt.id, tgt.span, call, shape_pos=1, dtype_pos=2, size_vars=True)
            if argument(call, 2, "dtype") is None:
                buf = buf.with_(dtype=region.buffer.dtype,
                                data=Var(tgt.id, HANDLE_T, PointerType(region.buffer.dtype, buf.scope), span=tgt.span))
            mb = MatchBufferRegion(buf, region, span=call.span)
            if frame is None:
                raise self.fail("TIR019", "T.match_buffer of a region outside a function", call.span)
            frame.match_buffers.append(mb)
            self.define(tgt.id, tgt.span, buf, "match_buffer", mb)
            return []
        handle = self.expr(src)
        if not (isinstance(handle, Var) and id(handle) in self.handle_params):
            raise self.fail("TIR019", "T.match_buffer needs a handle parameter or a buffer region", src.span)
        if any(v is handle for v, _ in self.buffer_map):
            raise self.fail("TIR011", f"parameter '{handle.name}' is already matched to a buffer", src.span)
        buf = self.make_buffer(tgt.id, tgt.span, call, shape_pos=1, dtype_pos=2, size_vars=True)
        self.buffer_map.append((handle, buf))
        self.define(tgt.id, tgt.span, buf, "match_buffer", buf)
        return []

    def allocate(self, tgt: S.Name, call: S.Call) -> Allocate:
        self.check_arity("allocate", call)
        ext_e = argument(call, 0, "extents")
        dt_e = argument(call, 1, "dtype")
        if ext_e is None or dt_e is None:
            raise self.fail("TIR012", "T.allocate needs extents and a dtype", call.span)
        extents = self._shape(ext_e, False)
        dtype = self.dtype_arg(dt_e)
        scope_e = argument(call, 2, "scope")
        scope = self.const_str(scope_e, "scope") if scope_e is not None else "global"
        cond_e = argument(call, 3, "condition")
        cond = self.expr(cond_e, BOOL_T) if cond_e is not None else None
        ann = keyword(call, "annotations")
        v = Var(tgt.id, HANDLE_T, PointerType(dtype, scope), span=tgt.span)
        node = Allocate(v, dtype, extents, cond, self.attr_dict(ann) if ann is not None else {}, span=call.span)
        self.define(tgt.id, tgt.span, v, "allocate", node)
        return node

    def allocate_const(self, tgt: S.Name, call: S.Call) -> AllocateConst:
        self.check_arity("allocate_const", call)
        data_e, dt_e, ext_e = call.args[0], call.args[1], call.args[2]
        dtype = self.dtype_arg(dt_e)
        extents = self._shape(ext_e, False)
        data: tuple[int | float, ...] | None = None
        ref: tuple[str, int] | None = None
        mref = self.metadata_ref(data_e)
        if mref is not None:
            ref = (mref.kind, mref.index)
        elif isinstance(data_e, (S.ListExpr, S.TupleExpr)):
            vals: list[int | float] = []
            for x in data_e.elts:
                lv = literal_value(x)
                if lv is None:
                    raise self.fail("TIR019", "T.allocate_const data must be number literals", x.span)
                vals.append(float(lv) if dtype.is_float else int(lv))
            data = tuple(vals)
        else:
            raise self.fail("TIR019", "T.allocate_const data must be a list of numbers or a metadata reference", data_e.span)
        ann = keyword(call, "annotations")
        v = Var(tgt.id, HANDLE_T, PointerType(dtype, "global"), span=tgt.span)
        node = AllocateConst(v, dtype, extents, data, self.attr_dict(ann) if ann is not None else {},
                             None, ref, span=call.span)
        self.define(tgt.id, tgt.span, v, "allocate_const", node)
        return node

    def view(self, tgt: S.Name, call: S.Call) -> Stmt:
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self.buffer_named(call.func.value)
        # ``A.view(256)``, ``A.view(16, 16)``, ``A.view((16, 16))``, a dtype string anywhere.
        dims = [a for a in call.args if not (isinstance(a, S.Constant) and isinstance(a.value, str))]
        strs = [a for a in call.args if isinstance(a, S.Constant) and isinstance(a.value, str)]
        if len(dims) == 1:
            shape = self._shape(dims[0], False)
        elif dims:
            shape = tuple(self.expr(a, INT32) for a in dims)
        else:
            shape_kw = keyword(call, "shape")
            shape = self._shape(shape_kw, False) if shape_kw is not None else src.shape
        dt_e = strs[0] if strs else keyword(call, "dtype")
        dtype = self.dtype_arg(dt_e) if dt_e is not None else src.dtype
        # ``A.view(8, 8, layout=T.TileLayout(...))``: a view laid out across threads; without
        # ``layout=`` a same-dtype view keeps its source's layout, as TVM does.
        lay = keyword(call, "layout")
        layout = self.py_value(lay) if lay is not None else src.layout if dtype == src.dtype else None
        buf = Buffer(tgt.id, src.data, dtype, shape, scope=src.scope, layout=layout, span=tgt.span)
        node = DeclBuffer(buf, "view", src, span=call.span)
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node

    def permute(self, tgt: S.Name, call: S.Call) -> Stmt:
        """``B = A.permute(1, 0)``: A's storage with its dimensions reordered (TVM 0.27
        kernels). The permuted layout needs TVM's layout algebra, so it is not kept."""
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self.buffer_named(call.func.value)
        dims: list[int] = []
        for a in call.args:
            if not (isinstance(a, S.Constant) and type(a.value) is int):
                raise self.fail("TIR019", "A.permute takes dimension numbers: A.permute(1, 0)", a.span)
            dims.append(a.value)
        if sorted(dims) != list(range(len(src.shape))):
            raise self.fail("TIR012", f"A.permute needs each of the {len(src.shape)} dimensions of "
                                      f"'{src.name}' once, got {tuple(dims)}", call.span)
        shape = tuple(src.shape[d] for d in dims)
        buf = Buffer(tgt.id, src.data, src.dtype, shape, scope=src.scope, span=tgt.span)
        node = DeclBuffer(buf, "permute", src, span=call.span, dims=tuple(dims))
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node

    def local_view(self, tgt: S.Name, call: S.Call) -> Stmt:
        """``r = R.local()`` / ``R.local(8, 8)``: the storage one thread holds of a buffer laid
        out across threads (TVM 0.27 kernels). Without a shape it is one dimension, the span
        of the layout's memory part."""
        assert isinstance(call.func, S.Attribute) and isinstance(call.func.value, S.Name)
        src = self.buffer_named(call.func.value)
        lay = keyword(call, "layout")
        layout = self.py_value(lay) if lay is not None else None
        if call.args:
            shape = tuple(self.expr(a, INT32) for a in call.args)
            form = "local_shaped"
        else:
            # TVM: the span of the source layout's memory part, or its size when the local
            # view is given its own layout.
            span = memory_span(src.layout, size=layout is not None)
            if span is None:
                raise self.fail("TIR019", f"cannot tell the local size of '{src.name}' from its layout; "
                                          f"give it: {src.name}.local(n)", call.span)
            shape, form = (IntImm(INT32, span),), "local"
        buf = Buffer(tgt.id, src.data, src.dtype, shape, scope=src.scope, layout=layout, span=tgt.span)
        node = DeclBuffer(buf, form, src, span=call.span)
        self.define(tgt.id, tgt.span, buf, "view", node)
        return node
