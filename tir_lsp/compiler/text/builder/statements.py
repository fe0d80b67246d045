"""Statements without a body of their own (return, assert, expression statements, the frame
statements ``T.reads`` / ``T.writes`` / ``T.where``), ``if`` and ``while``, and assignments,
which declare a name or store to a buffer.
"""

from __future__ import annotations

from tir_lsp.compiler.ir.attrs import MetadataRef
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import lookup_builtin
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, INT32, DataType, PointerType, Type
from tir_lsp.compiler.ir.expr import BufferRegion, Call, Expr, IntImm, StringImm, Var, index_lanes
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import (
    AllocBuffer,
    AssertStmt,
    Bind,
    BufferStore,
    DeclBuffer,
    Evaluate,
    IfThenElse,
    IterVar,
    Stmt,
    While,
)
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.attributes import value_spans
from tir_lsp.compiler.text.builder.blocks import BlockBuilder
from tir_lsp.compiler.text.builder.core import Drop
from tir_lsp.compiler.text.builder.forms import call_name, keyword, t_name
from tir_lsp.compiler.text.kernel_dialect import SCOPE_ID_KINDS

_AXIS_KINDS = {"spatial": "S", "reduce": "R", "scan": "scan", "opaque": "O"}


def _join_spans(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column)


class StmtBuilder(BlockBuilder):
    """Builds the other statements and assignments."""

    def _stmt_Pass(self, st: S.Pass) -> list[Stmt]:
        return []

    def _stmt_Import(self, st: S.Import) -> list[Stmt]:
        return []

    def _stmt_Error(self, st: S.Error) -> list[Stmt]:
        # The header was unreadable: names it would have defined are unknown, so undefined
        # names inside are not reported (they would only echo the syntax error).
        self.suppress_undefined += 1
        try:
            with self.scope():
                return self.stmts(st.body)
        finally:
            self.suppress_undefined -= 1

    def _stmt_FunctionDef(self, st: S.FunctionDef) -> list[Stmt]:
        raise self.fail("TIR005", "nested functions are not TIR", st.name.span)

    def _stmt_ClassDef(self, st: S.ClassDef) -> list[Stmt]:
        raise self.fail("TIR005", "classes are not TIR", st.name.span)

    def _stmt_Return(self, st: S.Return) -> list[Stmt]:
        val = self.expr(st.value) if st.value is not None else IntImm(INT32, 0, span=st.span)
        return [Evaluate(Call(val.dtype, "ret", (val,), span=st.span), span=st.span)]

    def _stmt_Assert(self, st: S.Assert) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        kind: str | None = None
        parts: list[Expr] = []
        msg = st.msg
        if msg is None:
            pass
        elif isinstance(msg, S.TupleExpr) and len(msg.elts) == 2:
            kind = self.const_str(msg.elts[0], "error kind")
            pl = msg.elts[1]
            items = pl.elts if isinstance(pl, (S.ListExpr, S.TupleExpr)) else (pl,)
            parts = [self._message_part(x) for x in items]
        else:
            parts = [self._message_part(msg)]
        return [AssertStmt(cond, tuple(parts), kind, span=st.span)]

    def _message_part(self, e: S.SExpr) -> Expr:
        ref = self.metadata_ref(e)
        if ref is not None:
            return StringImm(f"<metadata {ref.kind}[{ref.index}]>", MetadataRef(ref.kind, ref.index), span=e.span)
        return self.expr(e)

    def _stmt_If(self, st: S.If) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        then = self.body(st.body)
        els = self.body(st.orelse) if st.orelse else None
        return [IfThenElse(cond, then, els, span=st.span)]

    def _stmt_While(self, st: S.While) -> list[Stmt]:
        cond = self.expr(st.test, BOOL_T)
        return [While(cond, self.body(st.body), span=st.span)]

    def _stmt_ExprStmt(self, st: S.ExprStmt) -> list[Stmt]:
        e = st.value
        name = call_name(e)
        if isinstance(e, S.Call) and name is not None:
            if name == "func_attr":
                if e.args:
                    self.attrs.update(self.attr_dict(e.args[0]))
                    self.attr_spans.update(value_spans(e.args[0]))
                return []
            if name in ("reads", "writes"):
                frame = self.block_frame(e.span, f"T.{name}")
                regions: list[BufferRegion] = []
                # The regions are the block's header, printed right after its axes: they may
                # not see what the block's body defines (it would print before its definition).
                axes = {id(iv.var) for iv in frame.iter_vars}
                inner = next((n for n, b in self.scopes[-1].items() if id(b.obj) not in axes), None)
                if inner is None and frame.alloc_buffers:
                    inner = frame.alloc_buffers[0].name
                if inner is not None:
                    raise self.fail("TIR019", f"T.{name} must come before the block's own buffers and "
                                              f"bindings ('{inner}' is defined above it)", e.span)
                for a in e.args:
                    items = a.elts if isinstance(a, (S.ListExpr, S.TupleExpr)) else (a,)
                    for x in items:
                        regions.append(self.region(x))
                if name == "reads":
                    frame.reads = tuple(regions)
                else:
                    frame.writes = tuple(regions)
                return []
            if name == "where":
                frame = self.block_frame(e.span, "T.where")
                self.check_arity("where", e)
                frame.predicate = self.expr(e.args[0], BOOL_T)
                return []
            if name in ("sblock_attr", "block_attr"):
                frame = self.block_frame(e.span, f"T.{name}")
                if e.args:
                    frame.annotations.update(self.attr_dict(e.args[0]))
                    frame.attr_spans.update(value_spans(e.args[0]))
                return []
            if name == "evaluate":
                self.check_arity("evaluate", e)
                return [Evaluate(self.expr(e.args[0]), span=st.span)]
            if name == "attr":
                return [self.attr_stmt(e, None, st.span)]
            if name == "launch_thread":
                return [self.launch_thread(None, e)]
            if name == "hint":
                return [self.hint_stmt(e, None, st.span)]
            if name == "prim_func":
                raise self.fail("TIR005", "T.prim_func is a decorator", e.span)
        if isinstance(e, S.Call) and isinstance(e.func, S.Attribute) and e.func.attr == "vstore":
            return [self.vstore(e, st.span)]
        return [Evaluate(self.expr(e), span=st.span)]

    def _stmt_AugAssign(self, st: S.AugAssign) -> list[Stmt]:
        as_binary = S.BinaryOp(st.op, st.target, st.value, st.span)
        return self._assign_existing(st.target, as_binary, st.span)

    def _stmt_AnnAssign(self, st: S.AnnAssign) -> list[Stmt]:
        if not isinstance(st.target, S.Name):
            raise self.fail("TIR005", "only a name can be annotated", st.target.span)
        tgt = st.target
        ann = st.annotation
        is_let = isinstance(ann, S.Subscript) and t_name(ann.value) == "let"
        if is_let:
            assert isinstance(ann, S.Subscript)
            if len(ann.indices) != 1:
                raise self.fail("TIR005", "T.let[...] takes one type", ann.span)
            ty = self.type_annotation(ann.indices[0])
        else:
            ty = self.type_annotation(ann)
        if st.value is None and self.ctx.dialect != "tir" and isinstance(ty, DataType) and not ty.is_handle:
            # tirx: ``x: T.int32`` declares a mutable scalar, assigned later with ``x = ...``.
            return self.scalar_alloc(tgt, ty, None, st.span)
        if st.value is None:
            # ``n: T.int32`` declares a var, like ``n = T.int32()``.
            v = self._typed_var(tgt, ty)
            self.define(tgt.id, tgt.span, v, "size_var")
            return []
        dt = HANDLE_T if isinstance(ty, PointerType) else ty
        value = self.expr(st.value, dt)
        if is_let or isinstance(ty, PointerType) or dt.is_handle or self.ctx.dialect == "tir":
            v = self._typed_var(tgt, ty)
            node = Bind(v, value, span=st.span)
            self.define(tgt.id, tgt.span, v, "let", node)
            return [node]
        return self.scalar_alloc(tgt, dt, value, st.span)

    def _typed_var(self, tgt: S.Name, ty: Type) -> Var:
        if isinstance(ty, PointerType):
            return Var(tgt.id, HANDLE_T, ty, span=tgt.span)
        return Var(tgt.id, ty, span=tgt.span)

    def _stmt_Assign(self, st: S.Assign) -> list[Stmt]:
        tgt, val = st.target, st.value
        if isinstance(tgt, S.TupleExpr):
            if call_name(val) == "axis.remap" and isinstance(val, S.Call):
                return self.axis_remap(tgt, val)
            if call_name(val) in SCOPE_ID_KINDS and isinstance(val, S.Call):
                return [self.scope_id(tgt.elts, val, call_name(val) or "")]
            if (isinstance(val, S.TupleExpr) and len(val.elts) == len(tgt.elts)
                    and all(isinstance(t, S.Name) for t in tgt.elts)):
                # ``n, m = T.int32(), T.int32()``: one assignment per pair, left to right.
                out: list[Stmt] = []
                for t, v in zip(tgt.elts, val.elts):
                    out += self._stmt_Assign(S.Assign(t, v, _join_spans(t.span, v.span)))
                return out
            raise self.fail("TIR005", "tuple assignment is only valid with T.axis.remap", tgt.span)
        if isinstance(tgt, S.Subscript):
            return self._assign_existing(tgt, val, st.span)
        if not isinstance(tgt, S.Name):
            raise self.fail("TIR005", "cannot assign to this expression", tgt.span)
        name = call_name(val)
        if isinstance(val, S.Call) and name is not None:
            handled = self._assign_builtin(tgt, val, name, st.span)
            if handled is not None:
                return handled
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "view"
                and isinstance(val.func.value, S.Name)):
            return [self.view(tgt, val)]
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "local"
                and isinstance(val.func.value, S.Name)):
            return [self.local_view(tgt, val)]
        if (isinstance(val, S.Call) and isinstance(val.func, S.Attribute) and val.func.attr == "permute"
                and isinstance(val.func.value, S.Name)):
            return [self.permute(tgt, val)]
        existing = self.lookup(tgt.id)
        if existing is not None and (existing.mutable or isinstance(existing.obj, Var)
                                     or not self.in_current_scope(tgt.id)
                                     or isinstance(existing.obj, Buffer) and self.scalar_like(existing.obj)):
            return self._assign_existing(tgt, val, st.span)
        value = self.expr(val)
        if self.ctx.dialect == "tir" or value.dtype.is_handle:
            ptr = value.ret_type if isinstance(value, Call) else None
            if ptr is None and isinstance(value, Var):
                ptr = value.type_annotation
            v = Var(tgt.id, value.dtype, ptr, span=tgt.span)
            node = Bind(v, value, span=st.span)
            self.define(tgt.id, tgt.span, v, "let", node)
            return [node]
        return self.scalar_alloc(tgt, value.dtype, value, st.span)

    def _assign_existing(self, tgt: S.SExpr, val: S.SExpr, span: Span) -> list[Stmt]:
        """``A[i] = v``, ``x = v`` for a scalar buffer; anything else is an immutable binding."""
        if isinstance(tgt, S.Subscript):
            buf = self.buffer_named(tgt.value)
            indices = self.indices(buf, tgt.indices)
            dt = buf.dtype
            lanes = index_lanes(indices)
            if lanes != 1:
                dt = dt.with_lanes(lanes)
            value = self.coerce(self.expr(val, dt), dt)
            return [BufferStore(buf, value, indices, span=span)]
        if isinstance(tgt, S.Name):
            b = self.lookup(tgt.id)
            if b is None:
                if not self.suppress_undefined:
                    self.error("TIR010", f"undefined name '{tgt.id}'", tgt.span)
                raise Drop()
            if isinstance(b.obj, Buffer) and (b.mutable or self.scalar_like(b.obj)):
                self.refer(tgt.span, b.obj)
                value = self.coerce(self.expr(val, b.obj.dtype), b.obj.dtype)
                return [BufferStore(b.obj, value, (IntImm(INT32, 0),), span=span)]
            self.refer(tgt.span, b.obj)
            raise self.fail("TIR016", f"cannot assign to '{tgt.id}': it is an immutable {b.kind.replace('_', ' ')} binding", tgt.span)
        raise self.fail("TIR005", "cannot assign to this expression", tgt.span)

    def _assign_builtin(self, tgt: S.Name, call: S.Call, name: str, span: Span) -> list[Stmt] | None:
        info = lookup_builtin(name)
        if info is not None and info.kind == "dtype" and not call.args:
            # ``n = T.int32()``: a symbolic var; already declared when at the top of the body.
            b = self.scopes[-1].get(tgt.id) or (self.scopes[-2].get(tgt.id) if len(self.scopes) > 1 else None)
            if b is not None and b.kind == "size_var":
                return []
            v = Var(tgt.id, self.dtype_of(name, call.span), span=tgt.span)
            self.define(tgt.id, tgt.span, v, "size_var")
            return []
        if name == "match_buffer":
            return self.match_buffer(tgt, call)
        if name in ("alloc_buffer", "alloc_local", "alloc_shared"):
            if self.ctx.dialect == "tir" and name == "alloc_buffer":
                return self.block_alloc(tgt, call, "alloc_buffer")
            self.check_arity(name, call)
            default_scope = {"alloc_local": "local", "alloc_shared": "shared"}.get(name, "global")
            buf = self.make_buffer(tgt.id, tgt.span, call, default_scope=default_scope)
            ann = keyword(call, "annotations")
            node = AllocBuffer(buf, self.attr_dict(ann) if ann is not None else {}, span=span)
            self.define(tgt.id, tgt.span, buf, "alloc_buffer", node)
            return [node]
        if name == "sblock_alloc_buffer":
            return self.block_alloc(tgt, call, "sblock_alloc_buffer")
        if name in ("alloc_scalar", "local_scalar", "shared_scalar", "decl_scalar"):
            return self.scalar_decl(tgt, call, name, span)
        if name == "buffer_decl":  # the TVM 0.8-0.9 spelling
            name = "decl_buffer"
        if name in ("decl_buffer", "Buffer"):
            data_e = keyword(call, "data")
            data_var: Var | None = None
            data_value: Expr | None = None
            if data_e is not None and not (isinstance(data_e, S.Constant) and data_e.value is None):
                dv = self.expr(data_e)
                if isinstance(dv, Var):
                    data_var = dv
                else:
                    data_value = dv
            buf = self.make_buffer(tgt.id, tgt.span, call, data=data_var)
            form = "decl_buffer" if name == "decl_buffer" else "buffer"
            node2 = DeclBuffer(buf, form, data_value=data_value, span=span)
            self.define(tgt.id, tgt.span, buf, "decl_buffer" if form == "decl_buffer" else "buffer", node2)
            return [node2]
        if name == "allocate":
            return [self.allocate(tgt, call)]
        if name == "allocate_const":
            return [self.allocate_const(tgt, call)]
        if name == "launch_thread":
            return [self.launch_thread(tgt, call)]
        if name == "env_thread":
            self.check_arity(name, call)
            tag = self.const_str(call.args[0], "thread tag")
            v = Var(tgt.id, INT32, span=tgt.span)
            self.env_threads[id(v)] = tag
            self.define(tgt.id, tgt.span, v, "thread")
            return []
        if name in SCOPE_ID_KINDS:
            return [self.scope_id((tgt,), call, name)]
        if name.startswith("axis.") and name != "axis.remap":
            frame = self.block_frame(call.span, f"T.{name}")
            kind = _AXIS_KINDS.get(name[5:])
            if kind is None:
                raise self.fail("TIR004", f"unknown block axis kind T.{name}", call.func.span)
            self.check_arity(name, call)
            dom_e, bind_e = call.args[0], call.args[1]
            binding = self.expr(bind_e, INT32)
            if isinstance(dom_e, (S.TupleExpr, S.ListExpr)) and len(dom_e.elts) == 2:
                lo = self.expr(dom_e.elts[0], binding.dtype)
                hi = self.expr(dom_e.elts[1], binding.dtype)
                dmin, dext = lo, self.binop("sub", hi, lo, dom_e.span) if not (isinstance(lo, IntImm) and isinstance(hi, IntImm)) else IntImm(hi.dtype, hi.value - lo.value)
            else:
                dext = self.expr(dom_e, binding.dtype)
                dmin = IntImm(dext.dtype, 0)
            v = Var(tgt.id, binding.dtype if binding.dtype.is_int else INT32, span=tgt.span)
            iv = IterVar(v, dmin, dext, kind, span=call.span)
            frame.iter_vars.append(iv)
            frame.iter_values.append(binding)
            self.define(tgt.id, tgt.span, v, "block_iter", iv)
            return []
        return None
