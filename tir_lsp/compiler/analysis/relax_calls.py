"""Checks of a Relax function's calls into the module: ``cls.f`` names a function of the
module (TIR010), and a ``R.call_tir`` passes the PrimFunc as many tensors as it has
parameters, of the shapes and dtypes its buffers declare (TIR020).

``R.call_tir(cls.f, (x, y), out_ty=R.Tensor(...))`` calls ``f(x, y, out)``: the inputs, then
one buffer per output, then the ``tir_vars`` scalars. ``R.call_tir_inplace`` writes its
outputs into inputs named by ``inplace_indices``; only the ``-1`` ones are new parameters.
"""

from __future__ import annotations

import re

from tir_lsp.compiler.diagnostics import ERROR, Diagnostic
from tir_lsp.compiler.ir import relax as X
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import IntImm
from tir_lsp.compiler.ir.function import IRModule, PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.relax_builder import out_sinfo
from tir_lsp.compiler.text.relax_printer import dims_text

_CALL_TIR = {"R.call_tir", "R.call_tir_inplace", "R.call_tir_with_grad"}
_INT_DIM = re.compile(r"T\.int(?:8|16|32|64)\((-?\d+)\)$")


def _const_dim(d: X.Dim) -> int | None:
    if isinstance(d, int):
        return d
    m = _INT_DIM.match(d)
    return int(m.group(1)) if m else None


def _buffer_dim(e: object) -> int | None:
    return e.value if isinstance(e, IntImm) else None


def _shape_text(buf: Buffer) -> str:
    dims = [str(_buffer_dim(d)) if _buffer_dim(d) is not None else "?" for d in buf.shape]
    return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"


def _mismatch(si: X.StructInfo | None, buf: Buffer, prim: PrimFunc) -> str | None:
    """Why a tensor of struct info ``si`` cannot be ``buf`` (None if it can, or if unknown)."""
    if not isinstance(si, X.TensorInfo):
        return None
    which = f"buffer '{buf.name}' of '{prim.name}'"
    if si.dtype is not None and si.dtype != str(buf.dtype):
        return f"dtype {si.dtype}, but {which} is {buf.dtype}"
    ndim = len(si.shape) if si.shape is not None else si.ndim
    if ndim >= 0 and ndim != len(buf.shape):
        return f"rank {ndim}, but {which} has rank {len(buf.shape)}"
    if si.shape is not None:
        for d, b in zip(si.shape, buf.shape, strict=False):
            want, have = _const_dim(d), _buffer_dim(b)
            if want is not None and have is not None and want != have:
                return f"shape {dims_text(si.shape)}, but {which} has shape {_shape_text(buf)}"
    return None


def _inputs(call: X.RCall) -> list[tuple[X.RExpr, X.StructInfo | None]] | None:
    """Each value passed (``(x, y)``, ``R.tuple(x, y)``, or a var holding a tuple) with its
    struct info, or None when a var holds them and its struct info does not say how many."""
    if len(call.args) < 2:
        return []
    args = call.args[1]
    if isinstance(args, X.RTuple):
        return [(a, _sinfo_of(a)) for a in args.fields]
    if isinstance(args, X.RCall) and args.op == "R.tuple":
        return [(a, _sinfo_of(a)) for a in args.args]
    if isinstance(args, X.RVarRef) and isinstance(args.var.sinfo, X.TupleInfo):
        return [(args, f) for f in args.var.sinfo.fields]
    if isinstance(args, X.RVarRef) and isinstance(args.var.sinfo, X.TensorInfo):
        return [(args, args.var.sinfo)]
    return None


def _inplace_new_outputs(call: X.RCall, n_out: int) -> int:
    """How many outputs of a ``call_tir_inplace`` are new buffers (index ``-1``)."""
    idx = dict(call.kwargs).get("inplace_indices")
    if idx is None and len(call.args) > 2 and not isinstance(call.args[2], (X.RSInfo, X.RTuple)):
        idx = call.args[2]
    items = idx.fields if isinstance(idx, X.RTuple) else (idx,) if idx is not None else ()
    values = [item.text for item in items if isinstance(item, X.RLiteral)]
    if len(values) != len(items) or not values:
        return 0
    return sum(1 for v in values if v.strip() == "-1") if len(values) == n_out else 0


def _tir_vars(call: X.RCall) -> int:
    tv = dict(call.kwargs).get("tir_vars")
    if isinstance(tv, X.RCall) and tv.op == "R.shape" and tv.args and isinstance(tv.args[0], X.RTuple):
        return len(tv.args[0].fields)
    if isinstance(tv, X.RTuple):
        return len(tv.fields)
    return 0


def _sinfo_of(e: X.RExpr) -> X.StructInfo | None:
    if isinstance(e, X.RVarRef):
        return e.var.sinfo
    return None


def _check_call_tir(call: X.RCall, prim: PrimFunc, filename: str | None) -> list[Diagnostic]:
    outs = out_sinfo(call)
    if outs is None:
        return []
    inputs = _inputs(call)
    if inputs is None:
        return []
    n_out = _inplace_new_outputs(call, len(outs)) if call.op == "R.call_tir_inplace" else len(outs)
    n_vars = _tir_vars(call)
    expected = len(inputs) + n_out + n_vars
    span = call.span or Span(1, 1, 1, 1)
    op = call.op or "R.call_tir"
    if expected != len(prim.params):
        parts = [f"{len(inputs)} argument{'s' if len(inputs) != 1 else ''}", f"{n_out} output{'s' if n_out != 1 else ''}"]
        if n_vars:
            parts.append(f"{n_vars} tir_vars")
        takes = f"{len(prim.params)} parameter{'s' if len(prim.params) != 1 else ''}"
        return [Diagnostic("TIR020", f"{op} passes {expected} values ({' + '.join(parts)}) but '{prim.name}' "
                                     f"takes {takes}", span, ERROR, file=filename)]
    out: list[Diagnostic] = []
    for i, (arg, si) in enumerate(inputs):
        buf = prim.buffer_of(prim.params[i])
        if buf is None:
            if isinstance(si, X.TensorInfo):
                out.append(Diagnostic("TIR020", f"argument {i + 1} of {op} is a tensor but parameter "
                                                f"'{prim.params[i].name}' of '{prim.name}' is a scalar",
                                      arg.span or span, ERROR, file=filename))
            continue
        why = _mismatch(si, buf, prim)
        if why is not None:
            out.append(Diagnostic("TIR020", f"argument {i + 1} of {op} has {why}",
                                  arg.span or span, ERROR, file=filename))
    if n_out == len(outs):
        out_expr = dict(call.kwargs).get("out_ty") or dict(call.kwargs).get("out_sinfo")
        if out_expr is None and len(call.args) > 2:
            out_expr = call.args[2]
        for j, si in enumerate(outs):
            param = prim.params[len(inputs) + j]
            buf = prim.buffer_of(param)
            if buf is None:
                continue
            why = _mismatch(si, buf, prim)
            if why is not None:
                where = si.span or (out_expr.span if out_expr is not None else None) or span
                out.append(Diagnostic("TIR020", f"output {j + 1} of {op} has {why}",
                                      where, ERROR, file=filename))
    return out


def check_relax_function(func: X.RelaxFunction, module: IRModule, filename: str | None) -> list[Diagnostic]:
    """TIR010 for ``cls.f`` naming no function of ``module``; TIR020 for ``R.call_tir``
    calls that do not fit their PrimFunc."""
    prims = {f.name: f for f in module.functions}
    relax = {f.name for f in module.relax_functions}
    relax |= {line.split(" = ", 1)[0] for line in module.global_infos.split("\n") if " = R.ExternFunc(" in line}
    out: list[Diagnostic] = []
    for call in X.walk_calls(func.body):
        for e in (call.callee, *call.args):
            if isinstance(e, X.RGlobalRef) and e.name not in prims and e.name not in relax:
                out.append(Diagnostic("TIR010", f"the module has no function '{e.name}'",
                                      e.span or Span(1, 1, 1, 1), ERROR, file=filename))
        if call.op not in _CALL_TIR or not call.args or not isinstance(call.args[0], X.RGlobalRef):
            continue
        target = prims.get(call.args[0].name)
        if target is None:
            if call.args[0].name in relax:
                out.append(Diagnostic("TIR020", f"{call.op} calls a PrimFunc; '{call.args[0].name}' is a Relax function",
                                      call.args[0].span or Span(1, 1, 1, 1), ERROR, file=filename))
            continue
        out.extend(_check_call_tir(call, target, filename))
    return out
