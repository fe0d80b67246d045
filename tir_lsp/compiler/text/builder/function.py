"""One PrimFunc: decorator flags, parameters and body; and the entry points ``build_function``
and ``build_module_attrs``.
"""

from __future__ import annotations

from tir_lsp.compiler.diagnostics import Diagnostic
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, INT32, INT64, PointerType, Type
from tir_lsp.compiler.ir.expr import IntImm, Var
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import SBlock, SBlockRealize, Stmt
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.attributes import value_spans
from tir_lsp.compiler.text.builder.core import BlockFrame, Drop, ModuleContext, seq_or_nop
from tir_lsp.compiler.text.builder.forms import call_name
from tir_lsp.compiler.text.builder.statements import StmtBuilder
from tir_lsp.compiler.text.symbols import Definition, SymbolIndex


def _contains_block(stmt: Stmt | None) -> bool:
    from tir_lsp.compiler.ir.visitor import walk

    def fn(n: object) -> None:
        if isinstance(n, SBlock):
            raise _BlockFound  # the walk is pre-order: stop at the first block, not at the end

    if stmt is not None:
        try:
            walk(stmt, fn)
        except _BlockFound:
            return True
    return False


class _BlockFound(Exception):
    pass


class FunctionBuilder(StmtBuilder):
    """Builds one PrimFunc from a ``syntax.FunctionDef``."""

    def build(self, fdef: S.FunctionDef) -> PrimFunc | None:
        self.fname = fdef.name.id
        s_tir, private = self._decorator_flags(fdef)
        with self.scope():
            type_params: list[str] = []
            for tp in fdef.type_params:
                v = Var(tp.id, INT64, span=tp.span)  # ``def f[n](...)``: an int64 size, as in TVM
                self.define(tp.id, tp.span, v, "type_param")
                type_params.append(tp.id)
            body_stmts = list(fdef.body)
            self.predeclare_size_vars(body_stmts)
            # Scalar params first: a buffer shape may use a size param listed after it.
            by_param: dict[int, Var] = {}
            for buffers in (False, True):
                for k, p in enumerate(fdef.params):
                    if self._is_buffer_annotation(p.annotation) != buffers:
                        continue
                    try:
                        by_param[k] = self._param(p)
                    except Drop:
                        pass
            self.params = [by_param[k] for k in sorted(by_param)]
            ret_type: Type | None = None
            if fdef.returns is not None:
                try:
                    ret_type = self.type_annotation(fdef.returns)
                except Drop:
                    pass
            root = BlockFrame("root", is_root=True)
            self.frames.append(root)
            with self.scope():
                stmts = self.stmts(body_stmts)
            self.frames.pop()
        body = seq_or_nop(stmts)
        # TVM's rule for the implicit root block: around allocations at function level, around
        # a body holding blocks unless it is one block without iterators (``T.sblock("root")``
        # as written, or any other such block, stays the function's body).
        single = stmts[0] if len(stmts) == 1 and isinstance(stmts[0], SBlockRealize) else None
        if (root.alloc_buffers or root.match_buffers
                or (single is not None and single.block.iter_vars)
                or (single is None and self.blocks_made and _contains_block(body))):
            blk = SBlock("root", (), (), (), body, alloc_buffers=tuple(root.alloc_buffers),
                         match_buffers=tuple(root.match_buffers), annotations=root.annotations,
                         span=fdef.span, attr_spans=root.attr_spans)
            body = SBlockRealize((), IntImm(BOOL_T, 1), blk, span=fdef.span)
        func = PrimFunc(
            fdef.name.id, tuple(self.params), tuple(self.buffer_map), body, ret_type=ret_type,
            attrs=self.attrs, s_tir=s_tir, private=private, type_params=tuple(type_params),
            span=fdef.span, name_span=fdef.name.span, attr_spans=self.attr_spans,
        )
        d = Definition(func, fdef.name.id, fdef.name.span, "function", func, self.fname)
        self.index.define(d)
        return func

    def _decorator_flags(self, fdef: S.FunctionDef) -> tuple[bool, bool]:
        s_tir = private = False
        for dec in fdef.decorators:
            if isinstance(dec, S.Call):
                for k in dec.keywords:
                    if isinstance(k.value, S.Constant) and k.value.value is True:
                        if k.name == "s_tir":
                            s_tir = True
                        elif k.name == "private":
                            private = True
        return s_tir, private

    @staticmethod
    def _is_buffer_annotation(ann: S.SExpr | None) -> bool:
        return isinstance(ann, S.Call) and call_name(ann) in ("Buffer", "Tensor")

    def _param(self, p: S.Param) -> Var:
        name = p.name.id
        ann = p.annotation
        if ann is None:
            self.error("TIR005", f"parameter '{name}' needs a type annotation (T.Buffer, T.handle, T.int32...)", p.span)
            v = Var(name, INT32, span=p.name.span)
            self.define(name, p.name.span, v, "param")
            return v
        cname = call_name(ann) if isinstance(ann, S.Call) else None
        if cname in ("Buffer", "Tensor") and isinstance(ann, S.Call):
            buf = self.make_buffer(name, p.name.span, ann, size_vars=True)
            handle = Var(name, HANDLE_T, span=p.name.span)
            self.buffer_map.append((handle, buf))
            self.define(name, p.name.span, buf, "buffer_param", buf)
            return handle
        ty = self.type_annotation(ann)
        if isinstance(ty, PointerType):
            v = Var(name, HANDLE_T, ty, span=p.name.span)
        else:
            v = Var(name, ty, span=p.name.span)
        if v.dtype.is_handle:
            self.handle_params[id(v)] = v
        self.define(name, p.name.span, v, "param", v)
        return v


# ==================================================================== module level
def build_function(fdef: S.FunctionDef, ctx: ModuleContext) -> tuple[PrimFunc | None, SymbolIndex, list[Diagnostic]]:
    """Build one function on its own (the server rebuilds the function being edited).

    String references to other functions (``T.call_extern("int32", "f", ...)``) are left in
    ``index.call_names``; ``SymbolIndex.link_functions`` turns them into references.
    """
    fb = FunctionBuilder(ctx)
    try:
        func = fb.build(fdef)
    except Drop:
        func = None
    except RecursionError:
        fb.error("TIR005", "function nested too deeply", fdef.span)
        func = None
    return func, fb.index, fb.diags


def build_module_attrs(call: S.Call, ctx: ModuleContext) -> tuple[dict[str, object], dict[str, Span], list[Diagnostic]]:
    """The attributes of an ``I.module_attrs({...})`` call, where each value is written, and
    the diagnostics (the module around the functions is read by
    ``tir_lsp.compiler.text.parsed_file``)."""
    fb = FunctionBuilder(ctx)
    fb.scopes.append({})
    attrs: dict[str, object] = {}
    spans: dict[str, Span] = {}
    try:
        if call.args:
            attrs.update(fb.attr_dict(call.args[0]))
            spans.update(value_spans(call.args[0]))
    except Drop:
        pass
    return attrs, spans, fb.diags
