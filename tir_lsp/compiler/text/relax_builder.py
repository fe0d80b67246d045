"""Syntax tree -> Relax IR: builds an ``@R.function`` with spans on its vars, bindings and calls,
and the def-use index the server navigates (``cls.f`` names go to ``index.call_names``, as
string callees of TIR calls do, so they resolve to the module's functions).

The builder gives Relax no meaning beyond what the checks and the printer need: the struct
info of every var (annotated, or what a ``call_tir``'s ``out_ty`` says), calls by name, and
everything else as its source text.
"""

from __future__ import annotations

from tir_lsp.compiler.diagnostics import ERROR, Diagnostic
from tir_lsp.compiler.ir import relax as X
from tir_lsp.compiler.ir.dtype import INT64
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.relax_printer import sinfo_text
from tir_lsp.compiler.text.symbols import Definition, DefinitionKind, SymbolIndex

# Struct info constructors, by the name after ``R.``.
_SINFO_NAMES = {"Tensor", "Shape", "Tuple", "Prim", "Object", "Any", "Callable", "Void"}
# Keywords whose value is a struct info (``out_ty`` in TVM 0.27, ``out_sinfo`` before it).
_SINFO_KWARGS = {"out_ty", "out_sinfo", "ty_args", "sinfo_args"}
# Calls whose result struct info is their ``out_ty``.
DPS_CALLS = {"R.call_tir", "R.call_tir_inplace", "R.call_dps_packed", "R.call_tir_with_grad"}
_SIZE_VAR_CALLS = {"T.int64", "T.int32", "T.Var", "T.SizeVar"}
# Names a Relax function may use without defining them.
_GLOBAL_NAMES = {"R", "T", "I", "tvm", "relax", "tir", "tirx", "metadata"}
_PRECEDENCE = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "|": 5, "^": 6,
               "&": 7, "<<": 8, ">>": 8, "+": 9, "-": 9, "*": 10, "/": 10, "//": 10, "%": 10, "**": 12}


def dotted(e: S.SExpr) -> str | None:
    """``R.nn.relu`` for an attribute chain on a name, else None."""
    if isinstance(e, S.Name):
        name: str = e.id  # typed here: mypy sees the syntax module as Any (pyproject)
        return name
    if isinstance(e, S.Attribute):
        base = dotted(e.value)
        return f"{base}.{e.attr}" if base is not None else None
    return None


def source_text(e: S.SExpr | None, parent: int = 0) -> str:
    """The text of an expression as TVMScript writes it (the syntax tree keeps literals as
    written, so printing this back gives the same text)."""
    if e is None:
        return ""
    if isinstance(e, S.Name):
        name: str = e.id  # typed here: mypy sees the syntax module as Any (pyproject)
        return name
    if isinstance(e, S.Attribute):
        return f"{source_text(e.value, 13)}.{e.attr}"
    if isinstance(e, S.Constant):
        return e.text or repr(e.value)
    if isinstance(e, S.BinaryOp):
        prec = _PRECEDENCE.get(e.op, 3)
        text = f"{source_text(e.left, prec)} {e.op} {source_text(e.right, prec + 1)}"
        return f"({text})" if prec < parent else text
    if isinstance(e, S.UnaryOp):
        text = f"not {source_text(e.operand, 3)}" if e.op == "not" else f"{e.op}{source_text(e.operand, 11)}"
        return f"({text})" if parent > 11 else text
    if isinstance(e, S.Call):
        args = [source_text(a) for a in e.args] + [f"{k.name}={source_text(k.value)}" for k in e.keywords]
        return f"{source_text(e.func, 13)}({', '.join(args)})"
    if isinstance(e, S.Subscript):
        return f"{source_text(e.value, 13)}[{', '.join(source_text(i) for i in e.indices)}]"
    if isinstance(e, S.TupleExpr):
        inner = ", ".join(source_text(x) for x in e.elts)
        return f"({inner},)" if len(e.elts) == 1 else f"({inner})"
    if isinstance(e, S.ListExpr):
        return f"[{', '.join(source_text(x) for x in e.elts)}]"
    if isinstance(e, S.DictExpr):
        return "{" + ", ".join(f"{source_text(k)}: {source_text(v)}" for k, v in e.items) + "}"
    if isinstance(e, S.Slice):
        parts = [source_text(e.start), source_text(e.stop)] + ([source_text(e.step)] if e.step is not None else [])
        return ":".join(parts)
    if isinstance(e, S.IfExp):
        text = f"{source_text(e.body, 1)} if {source_text(e.test, 1)} else {source_text(e.orelse)}"
        return f"({text})" if parent > 0 else text
    if isinstance(e, S.Lambda):
        return f"lambda {', '.join(p.id for p in e.params)}: {source_text(e.body)}"
    if isinstance(e, S.Starred):
        return f"*{source_text(e.value, 13)}"
    return "..."


def is_relax_function(fdef: S.FunctionDef) -> bool:
    """Whether ``fdef`` is decorated with ``@R.function`` (with or without arguments)."""
    for d in fdef.decorators:
        if dotted(d.func if isinstance(d, S.Call) else d) == "R.function":
            return True
    return False


class _Drop(Exception):
    """Internal: the statement is dropped; its diagnostic is reported."""


class RelaxBuilder:
    """Builds one ``@R.function``; ``type_vars`` are the module-level size vars (``n = TypeVar("n")``)."""

    def __init__(self, type_vars: dict[str, Var], filename: str = "<input>") -> None:
        self.type_vars = type_vars
        self.filename = filename
        self.index = SymbolIndex()
        self.diags: list[Diagnostic] = []
        self.vars: dict[str, X.RelaxVar] = {}
        self.size_vars: dict[str, Var] = {}
        self.aliases: set[str] = set()
        self.fname = ""

    # ------------------------------------------------------------------ helpers
    def error(self, code: str, message: str, span: Span) -> _Drop:
        self.diags.append(Diagnostic(code, message, span, ERROR, file=self.filename))
        return _Drop()

    def _define(self, symbol: object, name: str, span: Span, kind: DefinitionKind, node: object = None) -> None:
        self.index.define(Definition(symbol, name, span, kind, node, self.fname))

    def _size_var(self, name: str, span: Span, define: bool) -> None:
        """A use of a symbolic dimension: refer to its definition (here or at module level),
        or define it (a name first seen in a parameter's annotation)."""
        var = self.size_vars.get(name) or self.type_vars.get(name)
        if var is not None:
            self.index.refer(span, var)
        elif define:
            var = Var(name, INT64, span=span)
            self.size_vars[name] = var
            self._define(var, name, span, "size_var")

    def _dim(self, e: S.SExpr, define: bool) -> X.Dim:
        if isinstance(e, S.Constant) and isinstance(e.value, int) and not isinstance(e.value, bool):
            return e.value
        if isinstance(e, S.Call) and dotted(e.func) in ("T.int64", "T.int32") and len(e.args) == 1:
            inner = e.args[0]
            if isinstance(inner, S.Constant) and isinstance(inner.value, int):
                return source_text(e)
        self._names_in(e, define)
        return source_text(e)

    def _names_in(self, e: S.SExpr, define: bool) -> None:
        if isinstance(e, S.Name):
            self._size_var(e.id, e.span, define)
        elif isinstance(e, S.BinaryOp):
            self._names_in(e.left, define)
            self._names_in(e.right, define)
        elif isinstance(e, S.UnaryOp):
            self._names_in(e.operand, define)
        elif isinstance(e, S.Call):
            for a in e.args:
                self._names_in(a, define)

    # ------------------------------------------------------------------ struct info
    def sinfo(self, e: S.SExpr, define: bool = True) -> X.StructInfo:
        """The struct info an annotation (or an ``out_ty``) writes; a symbolic dimension not
        seen before is defined there (as ``R.match_cast`` and parameters define them)."""
        call = e if isinstance(e, S.Call) else None
        name = dotted(call.func if call is not None else e)
        if name in ("R.Tensor", "R.Shape") and call is not None:
            shape_e = call.args[0] if call.args else next((k.value for k in call.keywords if k.name in ("shape", "values")), None)
            dims: tuple[X.Dim, ...] | None = None
            if isinstance(shape_e, (S.TupleExpr, S.ListExpr)):
                dims = tuple(self._dim(d, define) for d in shape_e.elts)
            elif shape_e is not None and not (isinstance(shape_e, S.Constant) and shape_e.value is None):
                self._names_in(shape_e, define)
            ndim_e = next((k.value for k in call.keywords if k.name == "ndim"), None)
            ndim = len(dims) if dims is not None else (
                ndim_e.value if isinstance(ndim_e, S.Constant) and isinstance(ndim_e.value, int) else -1)
            if name == "R.Shape":
                return X.ShapeInfo(dims, ndim, ndim_e is not None, span=e.span)
            dtype_e = call.args[1] if len(call.args) > 1 else next((k.value for k in call.keywords if k.name == "dtype"), None)
            dtype = dtype_e.value if isinstance(dtype_e, S.Constant) and isinstance(dtype_e.value, str) else None
            vdev_e = next((k.value for k in call.keywords if k.name == "vdevice"), None)
            vdevice = vdev_e.value if isinstance(vdev_e, S.Constant) and isinstance(vdev_e.value, str) else None
            return X.TensorInfo(dims, dtype, ndim, ndim_e is not None, vdevice, span=e.span)
        if name == "R.Tensor":
            return X.TensorInfo(None, None, -1, span=e.span)
        if name == "R.Shape":
            return X.ShapeInfo(None, -1, span=e.span)
        if name == "R.Tuple":
            fields: tuple[S.SExpr, ...] = call.args if call is not None else ()
            if len(fields) == 1 and isinstance(fields[0], (S.ListExpr, S.TupleExpr)):
                fields = fields[0].elts
            return X.TupleInfo(tuple(self.sinfo(f, define) for f in fields), span=e.span)
        if name == "R.Prim" and call is not None:
            arg = call.args[0] if call.args else next((k.value for k in call.keywords if k.name == "dtype"), None)
            if isinstance(arg, S.Constant) and isinstance(arg.value, str):
                return X.PrimInfo(arg.value, source_text(e), span=e.span)
        if name is not None and name.startswith("T.") and call is None:
            return X.PrimInfo(name[2:], name, span=e.span)
        if isinstance(e, (S.TupleExpr, S.ListExpr)):
            return X.TupleInfo(tuple(self.sinfo(f, define) for f in e.elts), span=e.span)
        return X.OpaqueInfo(source_text(e), span=e.span)

    # ------------------------------------------------------------------ expressions
    def expr(self, e: S.SExpr) -> X.RExpr:
        if isinstance(e, S.Name):
            var = self.vars.get(e.id)
            if var is not None:
                self.index.refer(e.span, var)
                return X.RVarRef(var, span=e.span)
            if e.id in self.size_vars or e.id in self.type_vars:
                self._size_var(e.id, e.span, define=False)
            elif e.id not in self.aliases and e.id not in _GLOBAL_NAMES:
                self.error("TIR010", f"undefined name '{e.id}'", e.span)
            return X.RLiteral(e.id, span=e.span)
        if isinstance(e, S.Attribute):
            if isinstance(e.value, S.Name) and e.value.id in self.aliases:
                self.index.call_names.append((e.attr, e.attr_span))
                return X.RGlobalRef(e.attr, e.value.id, span=e.attr_span)
            if (dotted(e) or "").split(".")[-1] in _SINFO_NAMES and (dotted(e) or "").startswith("R."):
                return X.RSInfo(self.sinfo(e), span=e.span)
            return X.RLiteral(source_text(e), span=e.span)
        if isinstance(e, S.Call):
            return self.call(e)
        if isinstance(e, S.TupleExpr):
            bare = bool(e.elts) and (e.elts[0].span.line, e.elts[0].span.column) == (e.span.line, e.span.column)
            return X.RTuple(tuple(self.expr(x) for x in e.elts), bare=bare, span=e.span)
        if isinstance(e, S.ListExpr):
            return X.RTuple(tuple(self.expr(x) for x in e.elts), brackets=True, span=e.span)
        if isinstance(e, S.Subscript) and len(e.indices) == 1 and isinstance(e.indices[0], S.Constant) \
                and isinstance(e.indices[0].value, int) and not (dotted(e.value) or "").startswith("metadata") \
                and not isinstance(e.value, S.Subscript):
            return X.RTupleGetItem(self.expr(e.value), e.indices[0].value, span=e.span)
        self._names_in(e, define=False)
        return X.RLiteral(source_text(e), span=e.span)

    def call(self, c: S.Call) -> X.RExpr:
        name = dotted(c.func)
        if name is not None and name.startswith("R.") and name[2:] in _SINFO_NAMES:
            return X.RSInfo(self.sinfo(c), span=c.span)
        op: str | None = None
        callee: X.RExpr | None = None
        if name is not None and name.split(".")[0] in ("R", "T", "I") and name.split(".")[0] not in self.vars:
            op = name
        else:
            callee = self.expr(c.func)
        args = tuple(self.expr(a) for a in c.args)
        kwargs = []
        for k in c.keywords:
            if k.name in _SINFO_KWARGS:
                value: X.RExpr = self._sinfo_arg(k.value)
            else:
                value = self.expr(k.value)
            kwargs.append((k.name, value))
        return X.RCall(op, callee, args, tuple(kwargs), span=c.span)

    def _sinfo_arg(self, e: S.SExpr) -> X.RExpr:
        if isinstance(e, S.TupleExpr):
            return X.RTuple(tuple(self._sinfo_arg(x) for x in e.elts), span=e.span)
        if isinstance(e, S.ListExpr):
            return X.RTuple(tuple(self._sinfo_arg(x) for x in e.elts), brackets=True, span=e.span)
        return X.RSInfo(self.sinfo(e), span=e.span)

    # ------------------------------------------------------------------ statements
    def stmts(self, body: tuple[S.SStmt, ...]) -> tuple[X.RStmt, ...]:
        out: list[X.RStmt] = []
        for st in body:
            if isinstance(st, S.Error):
                # A block whose header did not parse (already reported): its bindings still
                # define names, so that their uses are not reported as undefined too.
                out.extend(self.stmts(st.body))
                continue
            try:
                built = self.stmt(st)
            except _Drop:
                continue
            if built is not None:
                out.append(built)
        return tuple(out)

    def stmt(self, st: S.SStmt) -> X.RStmt | None:
        if isinstance(st, S.Assign):
            if not isinstance(st.target, S.Name):
                raise self.error("TIR005", "a Relax binding assigns one name", st.target.span)
            value = st.value
            if isinstance(value, S.Name) and value.id not in self.vars:
                # ``cls = Module``: the module, whose functions are written ``cls.f``.
                self.aliases.add(st.target.id)
                return X.RVerbatim(f"{st.target.id} = {value.id}", span=st.span)
            if isinstance(value, S.Call) and dotted(value.func) in _SIZE_VAR_CALLS:
                var = self.size_vars.get(st.target.id)
                if var is None or var.span != st.target.span:  # else predeclared by build()
                    var = Var(st.target.id, INT64, span=st.target.span)
                    self.size_vars[st.target.id] = var
                self._define(var, st.target.id, st.target.span, "size_var")
                return X.RVerbatim(f"{st.target.id} = {source_text(value)}", span=st.span)
            return self._bind(st.target, None, value, st.span)
        if isinstance(st, S.AnnAssign):
            if not isinstance(st.target, S.Name) or st.value is None:
                raise self.error("TIR005", "a Relax binding is `name: annotation = value`", st.span)
            return self._bind(st.target, st.annotation, st.value, st.span)
        if isinstance(st, S.ExprStmt):
            return X.RExprStmt(self.expr(st.value), span=st.span)
        if isinstance(st, S.With):
            return self._dataflow(st)
        if isinstance(st, S.If):
            cond = self.expr(st.test)
            return X.RIf(cond, self.stmts(st.body), self.stmts(st.orelse), span=st.span)
        if isinstance(st, S.Return):
            if st.value is None:
                raise self.error("TIR005", "a Relax function returns a value", st.span)
            return X.RReturn(self.expr(st.value), span=st.span)
        if isinstance(st, (S.Pass, S.Error, S.Import)):
            return None
        if isinstance(st, S.FunctionDef):
            return self._local_function(st)
        raise self.error("TIR005", "this Python statement is not a Relax statement", st.span)

    def _bind(self, target: S.Name, annotation: S.SExpr | None, value_e: S.SExpr, span: Span) -> X.RBinding:
        value = self.expr(value_e)
        sinfo = self.sinfo(annotation) if annotation is not None else infer_sinfo(value)
        var = X.RelaxVar(target.id, sinfo, span=target.span)
        self.vars[target.id] = var
        self._define(var, target.id, target.span, "let", None)
        return X.RBinding(var, value, annotation is not None, span=span)

    def _local_function(self, fdef: S.FunctionDef) -> X.RFunctionDef:
        """A function defined in the body (a closure: it sees the names bound before it, and
        its own name, for recursion)."""
        if not is_relax_function(fdef):
            raise self.error("TIR005", "a function inside a Relax function is an @R.function", fdef.name.span)
        # Its struct info first (a throwaway builder reads the annotations), so that the body
        # can call it.
        scratch = RelaxBuilder(self.type_vars, self.filename)
        scratch.size_vars = dict(self.size_vars)
        params = [sinfo_text(scratch.sinfo(p.annotation)) if p.annotation is not None else "R.Object"
                  for p in fdef.params]
        ret = sinfo_text(scratch.sinfo(fdef.returns)) if fdef.returns is not None else "R.Object"
        callable_text = f"R.Callable(({', '.join(params)}{',' if len(params) == 1 else ''}), {ret})"
        var = X.RelaxVar(fdef.name.id, X.OpaqueInfo(callable_text), span=fdef.name.span)
        inner = RelaxBuilder(self.type_vars, self.filename)
        inner.index, inner.diags, inner.fname = self.index, self.diags, self.fname
        inner.vars, inner.size_vars, inner.aliases = dict(self.vars), dict(self.size_vars), set(self.aliases)
        inner.vars[fdef.name.id] = var
        func = inner.build(fdef, local=True)
        self.vars[fdef.name.id] = var
        self._define(var, fdef.name.id, fdef.name.span, "let", func)
        return X.RFunctionDef(func, var, span=fdef.span)

    def _dataflow(self, st: S.With) -> X.RDataflow:
        if len(st.items) != 1 or dotted(getattr(st.items[0].context, "func", None) or st.items[0].context) != "R.dataflow":
            raise self.error("TIR005", "the only `with` of a Relax function is `with R.dataflow():`", st.span)
        body = list(st.body)
        outputs: tuple[X.RVarRef, ...] = ()
        last = body[-1] if body else None
        if isinstance(last, S.ExprStmt) and isinstance(last.value, S.Call) and dotted(last.value.func) == "R.output":
            body.pop()
        else:
            last = None
        stmts = self.stmts(tuple(body))
        if last is not None:
            assert isinstance(last, S.ExprStmt) and isinstance(last.value, S.Call)
            refs = []
            for a in last.value.args:
                r = self.expr(a)
                if not isinstance(r, X.RVarRef):
                    raise self.error("TIR005", "R.output takes the names bound in the dataflow block", a.span)
                refs.append(r)
            outputs = tuple(refs)
        return X.RDataflow(stmts, outputs, span=st.span)

    # ------------------------------------------------------------------ function
    def build(self, fdef: S.FunctionDef, local: bool = False) -> X.RelaxFunction:
        """The function; a ``local`` one (inside another) is defined as a var by its caller."""
        if not local:
            self.fname = fdef.name.id
        decorator = next(d for d in fdef.decorators
                         if dotted(d.func if isinstance(d, S.Call) else d) == "R.function")
        private = isinstance(decorator, S.Call) and any(
            k.name == "private" and isinstance(k.value, S.Constant) and k.value.value is True for k in decorator.keywords)
        # Size vars declared in the body (``n = T.int64()``) may appear in the parameters.
        for st in fdef.body:
            if isinstance(st, S.Assign) and isinstance(st.target, S.Name) and isinstance(st.value, S.Call) \
                    and dotted(st.value.func) in _SIZE_VAR_CALLS:
                self.size_vars.setdefault(st.target.id, Var(st.target.id, INT64, span=st.target.span))
        params = []
        for p in fdef.params:
            if p.annotation is None:
                self.error("TIR005", f"parameter '{p.name.id}' of a Relax function needs an annotation "
                           "such as R.Tensor((n, 4), dtype=\"float32\")", p.name.span)
            sinfo = self.sinfo(p.annotation, define=True) if p.annotation is not None else None
            var = X.RelaxVar(p.name.id, sinfo, span=p.name.span)
            self.vars[p.name.id] = var
            self._define(var, p.name.id, p.name.span, "param")
            params.append(var)
        ret = self.sinfo(fdef.returns) if fdef.returns is not None else None
        body = self.stmts(fdef.body)
        func = X.RelaxFunction(fdef.name.id, tuple(params), ret, body, source_text(decorator), private,
                               fdef.name.span, span=fdef.span)
        if not local:
            self._define(func, fdef.name.id, fdef.name.span, "function", func)
        return func


def infer_sinfo(value: X.RExpr) -> X.StructInfo | None:
    """The struct info of a value whose binding has no annotation, where the value says it."""
    if isinstance(value, X.RVarRef):
        return value.var.sinfo
    if isinstance(value, X.RSInfo):
        return None
    if isinstance(value, X.RTuple):
        fields = [infer_sinfo(f) for f in value.fields]
        if all(f is not None for f in fields):
            return X.TupleInfo(tuple(f for f in fields if f is not None))
        return None
    if isinstance(value, X.RTupleGetItem):
        inner = infer_sinfo(value.value)
        if isinstance(inner, X.TupleInfo) and 0 <= value.index < len(inner.fields):
            return inner.fields[value.index]
        return None
    if isinstance(value, X.RCall) and value.op is not None:
        if value.op in DPS_CALLS:
            out = out_sinfo(value)
            if out is None:
                return None
            return out[0] if len(out) == 1 and not _out_is_list(value) else X.TupleInfo(tuple(out))
        if value.op in ("R.call_packed", "R.call_pure_packed"):
            ty = dict(value.kwargs).get("ty_args") or dict(value.kwargs).get("sinfo_args")
            if isinstance(ty, X.RSInfo):
                return ty.sinfo
            if isinstance(ty, X.RTuple) and len(ty.fields) == 1 and isinstance(ty.fields[0], X.RSInfo):
                return ty.fields[0].sinfo
        if value.op == "R.shape" and value.args and isinstance(value.args[0], X.RTuple):
            return X.ShapeInfo(tuple(_literal_dim(f) for f in value.args[0].fields), len(value.args[0].fields))
    return None


def _literal_dim(e: X.RExpr) -> X.Dim:
    if isinstance(e, X.RLiteral):
        try:
            return int(e.text)
        except ValueError:
            return e.text
    return "?"


def _out_is_list(call: X.RCall) -> bool:
    out = dict(call.kwargs).get("out_ty") or dict(call.kwargs).get("out_sinfo")
    if out is None and len(call.args) > 2:
        out = call.args[2]
    return isinstance(out, X.RTuple)


def out_sinfo(call: X.RCall) -> list[X.StructInfo] | None:
    """The output struct infos of a destination-passing call (``out_ty=`` or its third
    positional argument); None if not written as struct info."""
    out = dict(call.kwargs).get("out_ty") or dict(call.kwargs).get("out_sinfo")
    if out is None and len(call.args) > 2:
        out = call.args[2]
    if isinstance(out, X.RSInfo):
        return [out.sinfo]
    if isinstance(out, X.RTuple) and all(isinstance(f, X.RSInfo) for f in out.fields):
        return [f.sinfo for f in out.fields if isinstance(f, X.RSInfo)]
    return None


def build_relax_function(fdef: S.FunctionDef, type_vars: dict[str, Var],
                         filename: str = "<input>") -> tuple[X.RelaxFunction | None, SymbolIndex, list[Diagnostic]]:
    """Build one ``@R.function``; never raises (problems are diagnostics)."""
    rb = RelaxBuilder(type_vars, filename)
    try:
        func: X.RelaxFunction | None = rb.build(fdef)
    except _Drop:
        func = None
    except RecursionError:
        rb.error("TIR005", "function nested too deeply", fdef.span)
        func = None
    return func, rb.index, rb.diags
