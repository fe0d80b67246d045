"""How things are spelled in the syntax tree, as the builder's layers ask it: which ``T.`` builtin a
call names, an argument by position or keyword, the number a literal spells.
"""

from __future__ import annotations

from tir_lsp.compiler.text import syntax as S

NAMESPACES = ("T", "I", "tvm", "tir", "tirx")


def t_name(e: S.SExpr) -> str | None:
    """``T.axis.remap`` -> ``axis.remap``; None when ``e`` is not a ``T.`` name."""
    parts: list[str] = []
    while isinstance(e, S.Attribute):
        parts.append(e.attr)
        e = e.value
    if isinstance(e, S.Name) and e.id == "T" and parts:
        return ".".join(reversed(parts))
    return None


def call_name(e: S.SExpr) -> str | None:
    """The builtin name of a ``T.xxx(...)`` call, else None."""
    if isinstance(e, S.Call):
        return t_name(e.func)
    return None


def keyword(call: S.Call, name: str) -> S.SExpr | None:
    for k in call.keywords:
        if k.name == name:
            return k.value
    return None


def argument(call: S.Call, pos: int, name: str) -> S.SExpr | None:
    """Argument ``pos`` or keyword ``name``."""
    if pos < len(call.args):
        return call.args[pos]
    return keyword(call, name)


def is_literal(e: S.SExpr) -> bool:
    return literal_value(e) is not None


def literal_value(e: S.SExpr) -> int | float | None:
    """The number ``e`` spells (``-3``, ``+-1.5``); a loop, not recursion: signs can be many."""
    negate = False
    while isinstance(e, S.UnaryOp) and e.op in ("-", "+"):
        negate ^= e.op == "-"
        e = e.operand
    if isinstance(e, S.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return -e.value if negate else e.value
    return None


def scalable_lanes(e: S.SExpr) -> int | None:
    """n when ``e`` is ``T.vscale()`` times number literals (``T.vscale() * 4 * 2`` is 8),
    else None."""
    factor, vscales = 1, 0
    stack = [e]
    while stack:
        x = stack.pop()
        if isinstance(x, S.BinaryOp) and x.op == "*":
            stack += [x.left, x.right]
        elif call_name(x) == "vscale":
            vscales += 1
        else:
            n = literal_value(x)
            if not isinstance(n, int) or n <= 0:
                return None
            factor *= n
    return factor if vscales == 1 and isinstance(e, S.BinaryOp) else None
