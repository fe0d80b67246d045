"""Integer-affine forms of index expressions: ``e`` as {variable: coefficient, None: constant}."""

from __future__ import annotations

from tir_lsp.compiler.ir.expr import BinOp, Cast, Expr, IntImm, Var

Affine = dict[Var | None, int]


def affine(e: Expr) -> Affine | None:
    """``e`` as {variable: coefficient, None: constant} when it is integer-affine in its
    variables (sums, differences, products with a constant, integer casts), else None."""
    if isinstance(e, IntImm):
        return {None: e.value}
    if isinstance(e, Var):
        return {e: 1}
    if isinstance(e, Cast) and e.dtype.is_int and e.value.dtype.is_int:
        return affine(e.value)
    if not isinstance(e, BinOp) or e.op not in ("add", "sub", "mul"):
        return None
    a, b = affine(e.a), affine(e.b)
    if a is None or b is None:
        return None
    if e.op == "mul":
        if set(a) <= {None}:
            a, b = b, a
        if not set(b) <= {None}:
            return None
        return {k: v * b.get(None, 0) for k, v in a.items()}
    sign = 1 if e.op == "add" else -1
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + sign * v
    return out


def const_difference(x: Expr, y: Expr) -> int | None:
    """``x - y`` when it is a constant (both affine, same variable terms), else None."""
    ax, ay = affine(x), affine(y)
    if ax is None or ay is None:
        return None
    d = dict(ax)
    for k, v in ay.items():
        d[k] = d.get(k, 0) - v
    if any(v != 0 for k, v in d.items() if k is not None):
        return None
    return d.get(None, 0)
