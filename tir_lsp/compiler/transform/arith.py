"""Expression arithmetic for passes: builders that fold constants, and a bound-aware simplifier.

Passes build index math (flattening, vectorizing, argument checks) through these builders so
the IR they emit is already tidy (``i * 16 + j``, not ``i * 16 * 1 + j * 1 + 0``).
"""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T, DataType
from tir_lsp.compiler.ir.expr import (
    BinOp,
    Broadcast,
    Cast,
    Expr,
    FloatImm,
    IntImm,
    Not,
    Ramp,
    Select,
    Var,
)
from tir_lsp.compiler.ir.fold import fold_int
from tir_lsp.compiler.ir.visitor import IRMutator

COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")

# Inclusive integer intervals known for variables (loop ranges).
Bounds = dict[Var, tuple[int, int]]


def wrap_int(value: int, dtype: DataType) -> int:
    """``value`` wrapped to the width of integer ``dtype`` (two's complement for int)."""
    if dtype.is_bool:
        return 1 if value else 0
    bits = dtype.bits
    value &= (1 << bits) - 1
    if dtype.is_int and value >= 1 << (bits - 1):
        value -= 1 << bits
    return value


def const(value: float, dtype: DataType) -> Expr:
    """An immediate of ``dtype`` (a Broadcast of one for vector dtypes)."""
    scalar = dtype.element_of()
    imm: Expr
    if scalar.is_float:
        imm = FloatImm(scalar, float(value))
    else:
        imm = IntImm(scalar, wrap_int(int(value), scalar))
    return Broadcast(imm, dtype.lanes) if dtype.lanes > 1 else imm


def int_value(e: Expr) -> int | None:
    """The value of an integer constant, else None."""
    if isinstance(e, IntImm):
        return e.value
    return None


def binop(op: str, a: Expr, b: Expr) -> Expr:
    """``a op b`` with broadcasting of a scalar side, constant folding and identities."""
    lanes = max(a.dtype.lanes, b.dtype.lanes)
    if lanes > 1:
        return _vector_binop(op, a, b, lanes)
    dtype = BOOL_T if op in COMPARE or op in ("and", "or") else a.dtype
    return simplify_binop(BinOp(op, a, b, dtype), {})


def _vector_binop(op: str, a: Expr, b: Expr, lanes: int) -> Expr:
    # Ramp arithmetic keeps indices linear: ramp + s, ramp * c stay ramps.
    if isinstance(a, Ramp) and b.dtype.lanes == 1 and op in ("add", "sub"):
        return Ramp(binop(op, a.base, b), a.stride, a.lanes)
    if isinstance(b, Ramp) and a.dtype.lanes == 1 and op == "add":
        return Ramp(binop(op, a, b.base), b.stride, b.lanes)
    if isinstance(a, Ramp) and isinstance(b, Ramp) and op in ("add", "sub"):
        return Ramp(binop(op, a.base, b.base), binop(op, a.stride, b.stride), lanes)
    if isinstance(a, Ramp) and b.dtype.lanes == 1 and op == "mul":
        return Ramp(binop("mul", a.base, b), binop("mul", a.stride, b), a.lanes)
    if isinstance(b, Ramp) and a.dtype.lanes == 1 and op == "mul":
        return Ramp(binop("mul", a, b.base), binop("mul", a, b.stride), b.lanes)
    if isinstance(a, Broadcast) and isinstance(b, Broadcast):
        return Broadcast(binop(op, a.value, b.value), lanes)
    if isinstance(a, Broadcast) and isinstance(b, Ramp) and op in ("add", "mul"):
        return _vector_binop(op, a.value, b, lanes)
    if isinstance(b, Broadcast) and isinstance(a, Ramp) and op in ("add", "sub", "mul"):
        return _vector_binop(op, a, b.value, lanes)
    a = broadcast(a, lanes)
    b = broadcast(b, lanes)
    scalar = a.dtype.element_of()
    dtype = BOOL_T.with_lanes(lanes) if op in COMPARE or op in ("and", "or") else scalar.with_lanes(lanes)
    return BinOp(op, a, b, dtype)


def broadcast(e: Expr, lanes: int) -> Expr:
    """``e`` as a ``lanes``-wide vector (unchanged when it already is one)."""
    if e.dtype.lanes == lanes:
        return e
    if isinstance(e, Ramp):
        return e
    return Broadcast(e, lanes)


def add(a: Expr, b: Expr) -> Expr:
    return binop("add", a, b)


def mul(a: Expr, b: Expr) -> Expr:
    return binop("mul", a, b)


def sub(a: Expr, b: Expr) -> Expr:
    return binop("sub", a, b)


def cast(dtype: DataType, e: Expr) -> Expr:
    """``T.Cast(dtype, e)``, folded for constants and dropped when the dtype already matches."""
    if e.dtype == dtype:
        return e
    if isinstance(e, IntImm) and not dtype.is_float and dtype.lanes == 1:
        return IntImm(dtype, wrap_int(e.value, dtype))
    if isinstance(e, (IntImm, FloatImm)) and dtype.is_float and dtype.lanes == 1 and dtype.bits == 64:
        return FloatImm(dtype, float(e.value))
    return Cast(dtype, e)


def int_bound(e: Expr, bounds: Bounds) -> tuple[int, int] | None:
    """An inclusive interval holding every value of integer scalar ``e``, if one is known."""
    if isinstance(e, IntImm):
        return (e.value, e.value)
    if isinstance(e, Var):
        return bounds.get(e)
    if isinstance(e, BinOp) and e.dtype.lanes == 1 and e.dtype.is_integer and not e.dtype.is_bool:
        bb = int_bound(e.b, bounds)
        if e.op in ("floormod",) and bb is not None and bb[0] == bb[1] and bb[0] > 0:
            return (0, bb[0] - 1)
        ba = int_bound(e.a, bounds)
        if ba is None or bb is None:
            return None
        if e.op == "add":
            return (ba[0] + bb[0], ba[1] + bb[1])
        if e.op == "sub":
            return (ba[0] - bb[1], ba[1] - bb[0])
        if e.op == "mul":
            products = [x * y for x in ba for y in bb]
            return (min(products), max(products))
        if e.op == "floordiv" and bb[0] == bb[1] and bb[0] > 0:
            return (ba[0] // bb[0], ba[1] // bb[0])
        if e.op == "min":
            return (min(ba[0], bb[0]), min(ba[1], bb[1]))
        if e.op == "max":
            return (max(ba[0], bb[0]), max(ba[1], bb[1]))
    return None


def _split_multiple(e: Expr, c: int) -> tuple[Expr, Expr] | None:
    """``e`` as ``q * c + r`` (returns (q, r)) when a summand is a visible multiple of ``c``."""
    if isinstance(e, BinOp) and e.op == "mul" and int_value(e.b) == c:
        return e.a, const(0, e.dtype)
    if isinstance(e, BinOp) and e.op == "add":
        left = _split_multiple(e.a, c)
        if left is not None:
            return left[0], binop("add", left[1], e.b)
        right = _split_multiple(e.b, c)
        if right is not None:
            return right[0], binop("add", e.a, right[1])
    return None


def simplify_binop(e: BinOp, bounds: Bounds) -> Expr:
    """One rewrite step on ``e`` whose operands are already simplified."""
    a, b, op = e.a, e.b, e.op
    if e.dtype.lanes > 1 or a.dtype.lanes > 1:
        return e
    ia, ib = int_value(a), int_value(b)
    integer = a.dtype.is_integer
    if ia is not None and ib is not None and integer:
        folded = fold_int(op, ia, ib)
        if folded is not None:
            return const(folded, e.dtype)
    if integer and not a.dtype.is_bool:
        if op == "add":
            if ib == 0:
                return a
            if ia == 0:
                return b
            # (x + c1) + c2 -> x + (c1 + c2): keeps flattened offsets in one constant.
            if ib is not None and isinstance(a, BinOp) and a.op == "add" and int_value(a.b) is not None:
                return simplify_binop(BinOp("add", a.a, const(int_value(a.b) + ib, e.dtype), e.dtype), bounds)  # type: ignore[operator]
        elif op == "sub":
            if ib == 0:
                return a
            if a is b:
                return const(0, e.dtype)
        elif op == "mul":
            if ib == 1:
                return a
            if ia == 1:
                return b
            if ia == 0 or ib == 0:
                return const(0, e.dtype)
        elif op in ("floordiv", "div") and ib is not None and ib > 0:
            if ib == 1:
                return a
            ra = int_bound(a, bounds)
            if ra is not None and 0 <= ra[0] and ra[1] < ib:
                return const(0, e.dtype)
            if op == "floordiv":
                split = _split_multiple(a, ib)
                if split is not None:
                    rr = int_bound(split[1], bounds)
                    if rr is not None and 0 <= rr[0] and rr[1] < ib:
                        return split[0]
        elif op in ("floormod", "truncmod") and ib is not None and ib > 0:
            if ib == 1:
                return const(0, e.dtype)
            ra = int_bound(a, bounds)
            if ra is not None and 0 <= ra[0] and ra[1] < ib:
                return a
            if op == "floormod":
                split = _split_multiple(a, ib)
                if split is not None:
                    return simplify_binop(BinOp("floormod", split[1], b, e.dtype), bounds)
        elif op in COMPARE:
            ra, rb = int_bound(a, bounds), int_bound(b, bounds)
            if ra is not None and rb is not None:
                decided = _decide(op, ra, rb)
                if decided is not None:
                    return const(decided, BOOL_T)
    if a.dtype.is_bool and op in ("and", "or"):
        if ia is not None:
            if op == "and":
                return b if ia else const(0, BOOL_T)
            return const(1, BOOL_T) if ia else b
        if ib is not None:
            if op == "and":
                return a if ib else const(0, BOOL_T)
            return const(1, BOOL_T) if ib else a
    return e


def _decide(op: str, ra: tuple[int, int], rb: tuple[int, int]) -> int | None:
    """The truth of ``a op b`` for all a in ra, b in rb, or None when it depends."""
    if op == "lt":
        return 1 if ra[1] < rb[0] else 0 if ra[0] >= rb[1] else None
    if op == "le":
        return 1 if ra[1] <= rb[0] else 0 if ra[0] > rb[1] else None
    if op == "gt":
        return _decide("lt", rb, ra)
    if op == "ge":
        return _decide("le", rb, ra)
    if op == "eq":
        if ra[0] == ra[1] == rb[0] == rb[1]:
            return 1
        return 0 if ra[1] < rb[0] or rb[1] < ra[0] else None
    if op == "ne":
        eq = _decide("eq", ra, rb)
        return None if eq is None else 1 - eq
    return None


class ExprSimplifier(IRMutator):
    """Simplifies every expression under a node, bottom-up, using ``bounds`` for loop vars."""

    def __init__(self, bounds: Bounds | None = None) -> None:
        self.bounds: Bounds = dict(bounds or {})

    def visit_Buffer(self, node: Buffer) -> Buffer:
        # A buffer is shared by every access; rebuilding it per access would split its identity.
        return node

    def visit_BinOp(self, node: BinOp) -> Expr:
        new = self.generic_mutate(node)
        return simplify_binop(new, self.bounds)

    def visit_Not(self, node: Not) -> Expr:
        new: Not = self.generic_mutate(node)
        v = int_value(new.a)
        if v is not None and new.a.dtype.is_bool:
            return const(0 if v else 1, BOOL_T)
        if isinstance(new.a, Not):
            return new.a.a
        if isinstance(new.a, BinOp) and new.a.op in COMPARE and new.a.a.dtype.is_integer:
            flipped = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}[new.a.op]
            return BinOp(flipped, new.a.a, new.a.b, new.a.dtype)
        return new

    def visit_Select(self, node: Select) -> Expr:
        new: Select = self.generic_mutate(node)
        c = int_value(new.condition)
        if c is not None and new.condition.dtype.is_bool:
            return new.true_value if c else new.false_value
        return new

    def visit_Cast(self, node: Cast) -> Expr:
        new: Cast = self.generic_mutate(node)
        return cast(new.dtype, new.value)

