"""Integer arithmetic on Python ints with TIR's semantics (``div``/``truncmod`` truncate,
``floordiv``/``floormod`` floor, comparisons and logic give 0 or 1): the constant folding
shared by the IR builder (``construct.arith``) and the passes' simplifier (``transform.arith``).
"""

from __future__ import annotations


def _floordiv(a: int, b: int) -> int:
    return a // b


def _truncdiv(a: int, b: int) -> int:
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def fold_int(op: str, a: int, b: int) -> int | None:
    """``a op b`` on Python ints with TIR semantics, or None (division by zero)."""
    if op in ("div", "floordiv", "truncmod", "floormod") and b == 0:
        return None
    if op == "add":
        return a + b
    if op == "sub":
        return a - b
    if op == "mul":
        return a * b
    if op == "div":
        return _truncdiv(a, b)
    if op == "truncmod":
        return a - _truncdiv(a, b) * b
    if op == "floordiv":
        return _floordiv(a, b)
    if op == "floormod":
        return a - _floordiv(a, b) * b
    if op == "min":
        return min(a, b)
    if op == "max":
        return max(a, b)
    if op == "eq":
        return int(a == b)
    if op == "ne":
        return int(a != b)
    if op == "lt":
        return int(a < b)
    if op == "le":
        return int(a <= b)
    if op == "gt":
        return int(a > b)
    if op == "ge":
        return int(a >= b)
    if op == "and":
        return int(bool(a) and bool(b))
    if op == "or":
        return int(bool(a) or bool(b))
    return None
