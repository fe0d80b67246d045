"""Calls: ``T.*`` builtins (their table is ``tir_lsp.compiler.ir.builtins``), tile primitives of
the kernel dialect, other functions of the module (``Module.f(...)``), and the layouts and
other data a kernel-dialect call carries.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from tir_lsp.compiler.diagnostics import WARNING
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import ARG0, ArgKind, Build, BuiltinInfo, lookup_builtin
from tir_lsp.compiler.ir.dtype import BOOL_T, HANDLE_T, INT32, DataType, PointerType, parse_dtype
from tir_lsp.compiler.ir.expr import (
    ArrayExpr,
    Broadcast,
    Call,
    Cast,
    Expr,
    FloatImm,
    GlobalCall,
    IntImm,
    LambdaExpr,
    Let,
    Not,
    PyValue,
    Ramp,
    RegionArg,
    Select,
    Shuffle,
    Var,
)
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.access import BufferAccess
from tir_lsp.compiler.text.builder.forms import NAMESPACES, call_name, keyword, literal_value, t_name
from tir_lsp.compiler.text.kernel_dialect import RESULT_DTYPES, is_tile_primitive, registered_in_tvm

_FLOAT_WORDS = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan, "+inf": math.inf}
# Keywords that do not count as arguments in an arity check.
_OPTIONAL_KWARGS = {"annotations", "dtype", "scope", "strides", "elem_offset", "align", "offset_factor",
                    "buffer_type", "axis_separators", "data", "where", "thread", "is_size_var",
                    "storage_scope", "condition", "step", "name", "no_realize", "span", "layout"}


def _spans(args: tuple[S.SExpr, ...]) -> tuple[Span, ...]:
    """Where each argument of a call is written (``Call.arg_spans``)."""
    return tuple(a.span for a in args)


def _dotted(e: S.SExpr) -> str | None:
    """``T.S`` / ``Axis.laneid`` / ``T.TileLayout.from_iters``: a dotted name of a namespace
    (``T`` or ``Axis``), else None."""
    parts: list[str] = []
    while isinstance(e, S.Attribute):
        parts.append(e.attr)
        e = e.value
    if isinstance(e, S.Name) and e.id in ("T", "Axis") and parts:
        return ".".join([e.id, *reversed(parts)])
    return None


class CallBuilder(BufferAccess):
    """Builds calls and the arguments they take."""

    def _expr_Call(self, e: S.Call, hint: DataType | None) -> Expr:
        name = call_name(e)
        if name is None:
            if isinstance(e.func, S.Attribute) and e.func.attr == "view":
                raise self.fail("TIR005", "A.view(...) must be assigned to a name", e.span)
            if isinstance(e.func, S.Attribute) and e.func.attr == "vload":
                return self.vload(e)
            f = e.func
            if (isinstance(f, S.Attribute) and isinstance(f.value, S.Name) and f.value.id not in NAMESPACES
                    and self.lookup(f.value.id) is None):
                # ``Module.f(a, b)``: a call of another function of the module.
                args = tuple(self._call_arg(a) for a in e.args)
                self.index.call_names.append((f.attr, f.attr_span))
                return GlobalCall(hint if hint is not None and not hint.is_bool else INT32, f.attr, args, span=e.span)
            raise self.fail("TIR005", "only T.* builtins can be called in TIR", e.func.span)
        return self._builtin_call(name, e, hint)

    def check_arity(self, name: str, call: S.Call) -> None:
        info = lookup_builtin(name)
        if info is None:
            return
        n = len(call.args) + len([k for k in call.keywords if k.name not in _OPTIONAL_KWARGS])
        if n < info.min_args or (info.max_args is not None and n > info.max_args):
            raise self.fail("TIR012", f"T.{name} takes {info.arity_text()} argument(s), got {n}: {info.signature}",
                            call.span)

    def _builtin_call(self, name: str, e: S.Call, hint: DataType | None) -> Expr:
        info = lookup_builtin(name)
        span = e.span
        if info is None or not info.tvm:
            if info is None and is_tile_primitive(name):
                args = tuple(self.tile_arg(a) for a in e.args)
                kwargs = tuple((k.name, self.tile_arg(k.value)) for k in e.keywords)
                return Call(hint if hint is not None else INT32, name, args, kwargs=kwargs, span=span,
                            arg_spans=_spans(e.args))
            if not registered_in_tvm(name):
                self.error("TIR004", f"unknown builtin T.{name}", e.func.span, WARNING)
            if info is None:
                args = tuple(self._call_arg(a) for a in e.args)
                known = RESULT_DTYPES.get(name)
                dt = parse_dtype(known) if known is not None else hint if hint is not None else INT32
                return Call(dt, name, args, kwargs=self._kwargs(e), span=span, arg_spans=_spans(e.args))
        self.check_arity(name, e)
        if len(e.args) < info.min_args:
            # The arity counted a keyword, but what follows reads the arguments by position.
            kw = next((k for k in e.keywords if k.name not in _OPTIONAL_KWARGS), None)
            where = kw.span if kw is not None else span
            raise self.fail("TIR012", f"T.{name} takes {info.min_args} positional argument(s), got {len(e.args)}: "
                                      f"{info.signature}", where)
        if info.kind == "dtype":
            return self._dtype_ctor(name, e)
        if info.kind in ("stmt", "decorator", "type") and name not in ("handle",):
            raise self.fail("TIR005", f"T.{name}(...) is a statement, not a value", span)
        if name == "handle":
            raise self.fail("TIR005", "T.handle(...) is a type; use T.handle(...).ty as a value", span)
        if info.build is not None:
            return _BUILDS[info.build](self, info, e, hint)
        # Generic builtin: build args by their kinds, then type by the entry's rule.
        self._note_callee(info, e)
        rule, t = info.result, info.type_arg
        if t is not None:
            # The dtype argument (a string or a T.handle(...).ty) becomes the call's type.
            dt, ptr = self._result_type_arg(e.args[t])
            args = tuple(self._builtin_arg(info, i, a, None) for i, a in enumerate(e.args) if i != t)
            arg_spans = tuple(a.span for i, a in enumerate(e.args) if i != t)
            return Call(dt, name, args, ptr, span=span, arg_spans=arg_spans)
        if rule == ARG0 and len(e.args) == 2:
            a, b = self.operands(e.args[0], e.args[1], hint)
            a, b = self.match_dtypes(a, b)
            args = (a, b)
        else:
            args = tuple(self._builtin_arg(info, i, a, hint if i == 0 and rule == ARG0 else None)
                         for i, a in enumerate(e.args))
        return Call(rule.dtype(args, hint), name, args, span=span, arg_spans=_spans(e.args))

    def _builtin_arg(self, info: BuiltinInfo, i: int, a: S.SExpr, hint: DataType | None) -> Expr:
        if info.arg_kind(i) is ArgKind.INDEX:
            return self.expr(a, INT32)
        return self._call_arg(a, hint)

    def _note_callee(self, info: BuiltinInfo, e: S.Call) -> None:
        """Records the function a call names by a string (``T.call_extern("float32", "f", x)``)
        in the def-use index."""
        for i, kind in enumerate(info.args):
            if kind is ArgKind.CALLEE and i < len(e.args):
                a = e.args[i]
                if isinstance(a, S.Constant) and isinstance(a.value, str):
                    self.index.call_names.append((a.value, a.span))

    # ---------------------------------------------------------------- builtins with a form of their own
    def _build_cast(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        dt = self.dtype_arg(e.args[0])
        # No dtype hint for the operand: a bare literal is int32 (or float32) as in TVM,
        # which is how the printer writes it back.
        return Cast(dt, self.expr(e.args[1]), span=e.span)

    def _build_select(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        c = self.expr(e.args[0], BOOL_T)
        t, f = self.operands(e.args[1], e.args[2], hint)
        t, f = self.match_dtypes(t, f)
        return Select(c, t, f, span=e.span)

    def _build_if_then_else(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        c = self.expr(e.args[0], BOOL_T)
        t, f = self.operands(e.args[1], e.args[2], hint)
        t, f = self.match_dtypes(t, f)
        return Call(t.dtype, info.name, (c, t, f), span=e.span, arg_spans=_spans(e.args))

    def _build_binop(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        a, b = self.operands(e.args[0], e.args[1], hint)
        return self.binop(info.binop or "", a, b, e.span)

    def _build_not(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        return Not(self.expr(e.args[0], BOOL_T), span=e.span)

    def _build_ramp(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        base, stride = self.operands(e.args[0], e.args[1], hint.element_of() if hint else None)
        base, stride = self.match_dtypes(base, stride)
        return Ramp(base, stride, self.lanes(e.args[2]), span=e.span)

    def _build_broadcast(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        v = self.expr(e.args[0], hint.element_of() if hint else None)
        return Broadcast(v, self.lanes(e.args[1]), span=e.span)

    def _build_shuffle(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        vecs_e, idx_e = e.args[0], e.args[1]
        vecs = tuple(self.expr(x) for x in (vecs_e.elts if isinstance(vecs_e, (S.ListExpr, S.TupleExpr)) else (vecs_e,)))
        idxs = tuple(self.expr(x, INT32) for x in (idx_e.elts if isinstance(idx_e, (S.ListExpr, S.TupleExpr)) else (idx_e,)))
        dt = vecs[0].dtype.element_of().with_lanes(len(idxs)) if vecs else INT32
        return Shuffle(vecs, idxs, dt, span=e.span)

    def _build_let(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        return self._let_expr(e)

    def _build_ffi_kernel(self, info: BuiltinInfo, e: S.Call, hint: DataType | None) -> Expr:
        # ``T.call_ffi_kernel("kernel", *args, launch_params=[...], ret_ty="int32")``
        ret = keyword(e, "ret_ty")
        dt = self.dtype_arg(ret) if ret is not None else INT32
        self.index.call_names.append((self.const_str(e.args[0], "kernel name"), e.args[0].span))
        return Call(dt, info.name, tuple(self._call_arg(a) for a in e.args), kwargs=self._kwargs(e), span=e.span,
                    arg_spans=_spans(e.args))

    def _call_arg(self, a: S.SExpr, hint: DataType | None = None) -> Expr:
        t = type(a)
        if t is S.ListExpr or t is S.TupleExpr:
            kind = "list" if t is S.ListExpr else "tuple"
            return ArrayExpr(tuple(self._call_arg(x) for x in a.elts), kind, span=a.span)
        if t is S.Constant and a.value is None:
            return ArrayExpr((), "none", span=a.span)
        if t is S.Lambda:
            return self._lambda(a)
        if isinstance(a, S.Name):
            b = self.lookup(a.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable and not self.scalar_like(b.obj):
                # A buffer passed to a builtin stands for its data pointer.
                self.refer(a.span, b.obj)
                return b.obj.data
        return self.expr(a, hint)

    def tile_arg(self, a: S.SExpr) -> Expr:
        """An argument of a tile primitive: ``A[0:16, i]`` is a region of A, not a load."""
        if isinstance(a, S.Subscript) and isinstance(a.value, S.Name):
            b = self.lookup(a.value.id)
            if b is not None and isinstance(b.obj, Buffer):
                return RegionArg(self.region(a), span=a.span)
        if isinstance(a, S.Name):
            b = self.lookup(a.id)
            if b is not None and isinstance(b.obj, Buffer) and not b.mutable:
                return RegionArg(self.region(a), whole=True, span=a.span)
        if isinstance(a, S.DictExpr):
            kws = tuple((self.const_str(k, "key"), self.tile_arg(v)) for k, v in a.items)
            return PyValue("dict", "", (), kws, span=a.span)
        return self._call_arg(a)

    def py_value(self, e: S.SExpr) -> Expr:
        """A layout (``T.TileLayout(T.S[(8, 4):(4 @ Axis.laneid, 1)])``) or other data of the
        kernel dialect, kept as written; numbers and names of vars in it are expressions."""
        t = type(e)
        if t is S.Constant:
            v = e.value
            return PyValue("none", span=e.span) if v is None else self.expr(e)
        if t is S.Name and self.lookup(e.id) is not None:
            return self.expr(e)
        dotted = _dotted(e)
        if dotted is not None:
            return PyValue("name", dotted, span=e.span)
        if t is S.UnaryOp and literal_value(e) is not None:
            return self.expr(e)
        if t is S.Call:
            cname = call_name(e)
            info = lookup_builtin(cname) if cname else None
            if info is not None and info.kind == "dtype":
                return self.expr(e)  # ``T.bool(False)``, ``T.int32(4)``: a value
            fname = _dotted(e.func)
            if fname is None:
                raise self.fail("TIR005", "expected a layout such as T.TileLayout(...)", e.span)
            args = tuple(self.py_value(x) for x in e.args)
            kws = tuple((k.name, self.py_value(k.value)) for k in e.keywords)
            return PyValue("call", fname, args, kws, span=e.span)
        if t is S.Subscript:
            items = (self.py_value(e.value),) + tuple(self.py_value(x) for x in e.indices)
            return PyValue("index", "", items, span=e.span)
        if t is S.Slice:
            parts = tuple(None if x is None else self.py_value(x) for x in (e.start, e.stop, e.step))
            return PyValue("slice", "", parts, span=e.span)
        if t is S.BinaryOp:
            return PyValue("op", e.op, (self.py_value(e.left), self.py_value(e.right)), span=e.span)
        if t is S.TupleExpr or t is S.ListExpr:
            form = "tuple" if t is S.TupleExpr else "list"
            return PyValue(form, "", tuple(self.py_value(x) for x in e.elts), span=e.span)
        if t is S.DictExpr:
            kws = tuple((self.const_str(k, "key"), self.py_value(v)) for k, v in e.items)
            return PyValue("dict", "", (), kws, span=e.span)
        return self.expr(e)

    def _lambda(self, e: S.Lambda) -> LambdaExpr:
        """``lambda i, j: (j, i)``: int32 index vars, bound in the body only."""
        with self.scope():
            params = tuple(Var(p.id, INT32, span=p.span) for p in e.params)
            for p, v in zip(e.params, params):
                self.define(p.id, p.span, v, "lambda_param")
            body = self._call_arg(e.body)
        return LambdaExpr(params, body, span=e.span)

    def _kwargs(self, e: S.Call) -> tuple[tuple[str, Expr], ...]:
        """The keyword arguments of a call kept as written (``launch_params=[...]``)."""
        return tuple((k.name, self._call_arg(k.value)) for k in e.keywords)

    def _result_type_arg(self, e: S.SExpr) -> tuple[DataType, PointerType | None]:
        if isinstance(e, S.Constant) and isinstance(e.value, str):
            return self.dtype_of(e.value, e.span), None
        if isinstance(e, S.Attribute) and e.attr == "ty" and isinstance(e.value, S.Call):
            ty = self.type_annotation(e.value)
            if isinstance(ty, PointerType):
                return HANDLE_T, ty
            return ty, None
        name = t_name(e)
        if name is not None:
            ty = self.type_annotation(e)
            return (HANDLE_T, ty) if isinstance(ty, PointerType) else (ty, None)
        raise self.fail("TIR019", "expected a dtype string such as \"float32\" or T.handle(...).ty", e.span)

    def _let_expr(self, e: S.Call) -> Expr:
        where = keyword(e, "where")
        if not isinstance(where, S.DictExpr) or len(where.items) != 1:
            raise self.fail("TIR019", "T.Let(body, where={var: value}) needs one binding", e.span)
        k, v = where.items[0]
        if not isinstance(k, S.Name):
            raise self.fail("TIR019", "T.Let binds a name", k.span)
        value = self.expr(v)
        with self.scope():
            b = self.lookup(k.id)
            if b is not None and isinstance(b.obj, Var) and b.kind == "size_var":
                var = b.obj
                self.refer(k.span, var)
            else:
                var = Var(k.id, value.dtype, span=k.span)
                self.define(k.id, k.span, var, "let")
            body = self.expr(e.args[0])
        return Let(var, value, body, span=e.span)

    def _dtype_ctor(self, name: str, e: S.Call) -> Expr:
        dt = self.dtype_of(name, e.func.span)
        if not e.args:
            raise self.fail("TIR019", f"T.{name}() declares a var; assign it: n = T.{name}()", e.span)
        a = e.args[0]
        el = dt.element_of()
        lv = literal_value(a)
        val: Expr
        if isinstance(a, S.Constant) and isinstance(a.value, bool):
            val = IntImm(el, int(a.value), span=e.span) if not el.is_float else FloatImm(el, float(a.value), span=e.span)
        elif lv is not None:
            if el.is_float:
                val = FloatImm(el, float(lv), span=e.span)
            else:
                if isinstance(lv, float) and not math.isfinite(lv):
                    raise self.fail("TIR019", f"T.{name}({lv}) is not a finite number", a.span)
                iv = int(lv)
                lo, hi = ((0, 2) if el.is_bool else (0, 2**el.bits) if el.is_uint
                          else (-(2 ** (el.bits - 1)), 2 ** (el.bits - 1)))
                # TVM rejects these too; a bool of -1 would not even print back as itself.
                if el.bits <= 64 and not lo <= iv < hi:
                    raise self.fail("TIR019", f"{iv} is out of range for {el}", a.span)
                val = IntImm(el, iv, span=e.span)
        elif isinstance(a, S.Constant) and isinstance(a.value, str):
            word = a.value.strip().lower()
            if el.is_float and word in _FLOAT_WORDS:
                val = FloatImm(el, _FLOAT_WORDS[word], span=e.span)
            else:
                raise self.fail("TIR019", f"T.{name} of the string {a.value!r}", a.span)
        else:
            x = self.expr(a, el)
            if x.dtype == dt:
                return x
            return Cast(dt, x, span=e.span)
        return Broadcast(val, dt.lanes, span=e.span) if dt.lanes > 1 else val


# The builder's method for each Build form an entry of the builtin table names.
_BUILDS: dict[Build, Callable[[CallBuilder, BuiltinInfo, S.Call, DataType | None], Expr]] = {
    Build.CAST: CallBuilder._build_cast,
    Build.SELECT: CallBuilder._build_select,
    Build.IF_THEN_ELSE: CallBuilder._build_if_then_else,
    Build.BINOP: CallBuilder._build_binop,
    Build.NOT: CallBuilder._build_not,
    Build.RAMP: CallBuilder._build_ramp,
    Build.BROADCAST: CallBuilder._build_broadcast,
    Build.SHUFFLE: CallBuilder._build_shuffle,
    Build.LET: CallBuilder._build_let,
    Build.FFI_KERNEL: CallBuilder._build_ffi_kernel,
}
