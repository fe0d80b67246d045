"""Expressions: names, literals, unary and binary operators, with TVM's rules for the dtype a
bare literal takes and for bringing two operands to one dtype.
"""

from __future__ import annotations

from tir_lsp.compiler.ir import construct
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import OPERATOR_BUILTINS
from tir_lsp.compiler.ir.dtype import BOOL_T, FLOAT32, INT32, INT64, DataType
from tir_lsp.compiler.ir.expr import (
    BinOp,
    BufferLoad,
    Call,
    Expr,
    FloatImm,
    IntImm,
    Not,
    StringImm,
    Var,
)
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.builder.forms import NAMESPACES, is_literal, literal_value
from tir_lsp.compiler.text.builder.literals import LiteralReader

# Python operator -> IR BinOp name (arithmetic and comparison); the bitwise operators are the
# builtins whose entry names them (OPERATOR_BUILTINS).
_ARITH = {"+": "add", "-": "sub", "*": "mul", "/": "div", "//": "floordiv", "%": "floormod"}
_COMPARE = {"==": "eq", "!=": "ne", "<": "lt", "<=": "le", ">": "gt", ">=": "ge"}


def _fits_int32(v: int) -> bool:
    return -(2**31) <= v < 2**31


class ExprBuilder(LiteralReader):
    """Builds names, literals and operator expressions."""

    def scalar_like(self, buf: Buffer) -> bool:
        """Whether TVM 0.27 reads and writes ``buf`` by its bare name (``A = v``, ``A + 1``):
        a plain one-element buffer (shape (1,), no strides, layout or special alignment).
        The classic dialect has no such sugar."""
        shape = buf.shape
        return (self.ctx.dialect != "tir" and len(shape) == 1 and type(shape[0]) is IntImm
                and shape[0].value == 1 and not buf.strides and buf.layout is None
                and buf.align in (0, 64) and buf.offset_factor in (0, 1) and not buf.axis_separators
                and buf.buffer_type == "default")

    def _expr_Constant(self, e: S.Constant, hint: DataType | None) -> Expr:
        v = e.value
        if isinstance(v, bool):
            return IntImm(BOOL_T, int(v), span=e.span)
        if isinstance(v, int):
            if hint is not None and hint.is_float:
                return FloatImm(hint.element_of(), float(v), span=e.span)
            if hint is not None and (hint.is_int or hint.is_uint):
                el = hint.element_of()
                lo, hi = (0, 2**el.bits) if el.is_uint else (-(2 ** (el.bits - 1)), 2 ** (el.bits - 1))
                if lo <= v < hi:
                    return IntImm(el, v, span=e.span)
                # Too wide for the other side's type: int64, and the other side is cast.
            if not -(2 ** 63) <= v < 2 ** 63:
                raise self.fail("TIR019", f"integer literal {v} does not fit in 64 bits", e.span)
            return IntImm(INT32 if _fits_int32(v) else INT64, v, span=e.span)
        if isinstance(v, float):
            dt = hint.element_of() if hint is not None and hint.is_float else FLOAT32
            return FloatImm(dt, v, span=e.span)
        if isinstance(v, str):
            return StringImm(v, span=e.span)
        raise self.fail("TIR005", "None is not a TIR value", e.span)

    def _expr_Name(self, e: S.Name, hint: DataType | None) -> Expr:
        if e.id in NAMESPACES:
            raise self.fail("TIR005", f"'{e.id}' is a namespace, not a value", e.span)
        b = self.lookup(e.id)
        if b is None:
            if not self.suppress_undefined:
                self.error("TIR010", f"undefined name '{e.id}'", e.span)
            placeholder = Var(e.id, hint if hint is not None and not hint.is_float else INT32, span=e.span)
            self.placeholders.add(id(placeholder))
            return placeholder
        self.refer(e.span, b.obj)
        if isinstance(b.obj, Buffer):
            if b.mutable or self.scalar_like(b.obj):
                return BufferLoad(b.obj, (IntImm(INT32, 0),), b.obj.dtype, span=e.span)
            raise self.fail("TIR019", f"buffer '{e.id}' used as a value; index it or use {e.id}.data", e.span)
        if isinstance(b.obj, Var):
            return b.obj
        raise self.fail("TIR005", f"'{e.id}' is not a value", e.span)

    def _expr_UnaryOp(self, e: S.UnaryOp, hint: DataType | None) -> Expr:
        if e.op in ("-", "+"):
            lv = literal_value(e)
            if lv is not None:
                c = S.Constant(lv, e.span)
                return self._expr_Constant(c, hint)
            a = self.expr(e.operand, hint)
            if a.dtype.is_handle or a.dtype.is_bool:  # there is no -1 of a handle or a bool to multiply by
                kind = "a bool" if a.dtype.is_bool else "a handle (a string or pointer)"
                raise self.fail("TIR005", f"unary '{e.op}' of {kind} is not TIR", e.span)
            if e.op == "+":
                return a
            # TVM spells negation as a multiplication by -1 (``x * -1``), so do we.
            neg = FloatImm(a.dtype.element_of(), -1.0) if a.dtype.is_float else IntImm(a.dtype.element_of(), -1)
            return self.binop("mul", a, neg, e.span)
        if e.op == "not":
            a = self.expr(e.operand, BOOL_T)
            return Not(a, span=e.span)
        builtin = OPERATOR_BUILTINS.get((e.op, 1))  # ``~x``
        if builtin is not None:
            a = self.expr(e.operand, hint)
            return Call(a.dtype, builtin, (a,), span=e.span)
        raise self.fail("TIR005", f"unary '{e.op}' is not TIR", e.span)

    def operands(self, left: S.SExpr, right: S.SExpr, hint: DataType | None) -> tuple[Expr, Expr]:
        """Build both sides; a number literal takes the other side's dtype, as in TVM."""
        if is_literal(left) and not is_literal(right):
            b = self.expr(right, hint)
            a = self.expr(left, b.dtype)
        elif is_literal(right) and not is_literal(left):
            a = self.expr(left, hint)
            b = self.expr(right, a.dtype)
        else:
            a = self.expr(left, hint)
            b = self.expr(right, a.dtype if is_literal(right) else hint)
        return a, b

    def _expr_BinaryOp(self, e: S.BinaryOp, hint: DataType | None) -> Expr:
        op = e.op
        if op in ("and", "or"):
            a = self.expr(e.left, BOOL_T)
            b = self.expr(e.right, BOOL_T)
            return BinOp(op, a, b, BOOL_T.with_lanes(max(a.dtype.lanes, b.dtype.lanes)), span=e.span)
        if op in _COMPARE:
            a, b = self.operands(e.left, e.right, None)
            return self.binop(_COMPARE[op], a, b, e.span)
        if hint is not None and hint.is_bool:
            hint = None
        if op in _ARITH:
            a, b = self.operands(e.left, e.right, hint)
            return self.binop(_ARITH[op], a, b, e.span)
        builtin = OPERATOR_BUILTINS.get((op, 2))  # ``a & b``, ``a << b``
        if builtin is not None:
            a, b = self.operands(e.left, e.right, hint)
            a, b = self.match_dtypes(a, b)
            return Call(a.dtype, builtin, (a, b), span=e.span)
        if op == "**":
            a, b = self.operands(e.left, e.right, hint)
            a, b = self.match_dtypes(a, b)
            return Call(a.dtype, "pow", (a, b), span=e.span)
        raise self.fail("TIR005", f"operator '{op}' is not TIR", e.span)

    def binop(self, op: str, a: Expr, b: Expr, span: Span | None) -> Expr:
        a, b = self.match_dtypes(a, b)
        if op in _COMPARE.values() or op in ("and", "or"):
            dt = BOOL_T.with_lanes(a.dtype.lanes)
        else:
            dt = a.dtype
        return BinOp(op, a, b, dt, span=span)

    def match_dtypes(self, a: Expr, b: Expr) -> tuple[Expr, Expr]:
        """Bring two operands to one dtype as TVM's BinaryOpMatchTypes does."""
        da, db = a.dtype, b.dtype
        # An undefined name (already reported) takes the other side's dtype rather than a cast,
        # so the one mistake is not reported again as a dtype mismatch.
        if da != db and isinstance(a, Var) and id(a) in self.placeholders:
            return Var(a.name, db, span=a.span), b
        if da != db and isinstance(b, Var) and id(b) in self.placeholders:
            return a, Var(b.name, da, span=b.span)
        return construct.match_dtypes(a, b)

    def coerce(self, e: Expr, dt: DataType) -> Expr:
        """``e`` as ``dt``: literals retyped, other values cast; unchanged when it matches."""
        return construct.coerce(e, dt)

    def _expr_IfExp(self, e: S.IfExp, hint: DataType | None) -> Expr:
        raise self.fail("TIR005", "'a if c else b' is not TIR; use T.Select or T.if_then_else", e.span)
