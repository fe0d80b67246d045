"""Relax IR -> TVMScript, in the form TVM prints it (``R.Tensor((n, 4), dtype="float32")``,
``with R.dataflow():`` ... ``R.output(...)``). Hover uses ``sinfo_text`` and ``signature``."""

from __future__ import annotations

from tir_lsp.compiler.ir import relax as X

_INDENT = "    "


def dims_text(dims: tuple[X.Dim, ...]) -> str:
    inner = ", ".join(str(d) for d in dims)
    return f"({inner},)" if len(dims) == 1 else f"({inner})"


def sinfo_text(si: X.StructInfo | None) -> str:
    """An annotation as TVMScript writes it."""
    if si is None:
        return "R.Object"
    if isinstance(si, X.TensorInfo):
        args = []
        if si.shape is not None:
            args.append(dims_text(si.shape))
        if si.dtype is not None:
            args.append(f'dtype="{si.dtype}"')
        if si.shape is None and (si.ndim >= 0 or si.ndim_written):
            args.append(f"ndim={si.ndim}")
        if si.vdevice is not None:
            args.append(f'vdevice="{si.vdevice}"')
        return f"R.Tensor({', '.join(args)})" if args else "R.Tensor"
    if isinstance(si, X.ShapeInfo):
        if si.values is not None:
            return f"R.Shape([{', '.join(str(d) for d in si.values)}])"
        return f"R.Shape(ndim={si.ndim})" if si.ndim >= 0 or si.ndim_written else "R.Shape"
    if isinstance(si, X.TupleInfo):
        return f"R.Tuple({', '.join(sinfo_text(f) for f in si.fields)})" if si.fields else "R.Tuple"
    return si.text


def expr_text(e: X.RExpr) -> str:
    if isinstance(e, X.RVarRef):
        return e.var.name
    if isinstance(e, X.RGlobalRef):
        return f"{e.prefix}.{e.name}"
    if isinstance(e, X.RCall):
        head = e.op if e.op is not None else expr_text(e.callee) if e.callee is not None else "?"
        args = [expr_text(a) for a in e.args] + [f"{k}={expr_text(v)}" for k, v in e.kwargs]
        return f"{head}({', '.join(args)})"
    if isinstance(e, X.RTuple):
        inner = ", ".join(expr_text(f) for f in e.fields)
        if e.brackets:
            return f"[{inner}]"
        if e.bare:
            return f"{inner}," if len(e.fields) == 1 else inner
        return f"({inner},)" if len(e.fields) == 1 else f"({inner})"
    if isinstance(e, X.RTupleGetItem):
        return f"{expr_text(e.value)}[{e.index}]"
    if isinstance(e, X.RSInfo):
        return sinfo_text(e.sinfo)
    return e.text


def var_text(v: X.RelaxVar) -> str:
    """``lv: R.Tensor((128, 128), dtype="float32")`` (hover's answer for a Relax var)."""
    return f"{v.name}: {sinfo_text(v.sinfo)}" if v.sinfo is not None else v.name


def signature(f: X.RelaxFunction) -> str:
    """``def main(x: R.Tensor(...)) -> R.Tensor(...)``."""
    ret = f" -> {sinfo_text(f.ret)}" if f.ret is not None else ""
    return f"def {f.name}({', '.join(var_text(p) for p in f.params)}){ret}"


def _stmts(stmts: tuple[X.RStmt, ...], level: int, out: list[str]) -> None:
    pad = _INDENT * level
    for s in stmts:
        if isinstance(s, X.RBinding):
            ann = f": {sinfo_text(s.var.sinfo)}" if s.annotated else ""
            out.append(f"{pad}{s.var.name}{ann} = {expr_text(s.value)}")
        elif isinstance(s, X.RExprStmt):
            out.append(pad + expr_text(s.value))
        elif isinstance(s, X.RVerbatim):
            out.append(pad + s.text)
        elif isinstance(s, X.RDataflow):
            out.append(f"{pad}with R.dataflow():")
            _stmts(s.body, level + 1, out)
            out.append(f"{pad}{_INDENT}R.output({', '.join(r.var.name for r in s.outputs)})")
        elif isinstance(s, X.RIf):
            out.append(f"{pad}if {expr_text(s.cond)}:")
            _stmts(s.then_body, level + 1, out)
            if s.else_body:
                out.append(f"{pad}else:")
                _stmts(s.else_body, level + 1, out)
        elif isinstance(s, X.RReturn):
            out.append(f"{pad}return {expr_text(s.value)}")
        elif isinstance(s, X.RFunctionDef):
            out.extend(print_relax_function(s.func, level))
            if s is not stmts[-1]:
                out.append("")  # TVM leaves a blank line after a local function


def print_relax_function(f: X.RelaxFunction, level: int) -> list[str]:
    """The lines of ``f`` (decorator first) at indentation ``level``."""
    out = [f"{_INDENT * level}@{f.decorator}", f"{_INDENT * level}{signature(f)}:"]
    _stmts(f.body, level + 1, out)
    if not f.body:
        out.append(f"{_INDENT * (level + 1)}pass")
    return out
