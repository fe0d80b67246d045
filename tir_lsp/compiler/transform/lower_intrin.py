"""LowerIntrin: math builtins become calls of C99 libm functions (or plain expressions)."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import Call, Expr, IntImm, Let, Select, StringImm, Var
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "LowerIntrin"

# TIR builtin -> libm base name (the double version; float adds the "f" suffix).
LIBM = {
    "exp": "exp", "exp2": "exp2", "log": "log", "log2": "log2", "log10": "log10", "log1p": "log1p",
    "expm1": "expm1", "sqrt": "sqrt", "cbrt": "cbrt", "sin": "sin", "cos": "cos", "tan": "tan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "asin": "asin", "acos": "acos", "atan": "atan",
    "asinh": "asinh", "acosh": "acosh", "atanh": "atanh", "atan2": "atan2", "pow": "pow",
    "fabs": "fabs", "floor": "floor", "ceil": "ceil", "trunc": "trunc", "round": "nearbyint",
    "nearbyint": "nearbyint", "erf": "erf", "fmod": "fmod", "copysign": "copysign", "hypot": "hypot",
    "nextafter": "nextafter", "ldexp": "ldexp", "fmin": "fmin", "fmax": "fmax",
}


def _extern(dtype: DataType, name: str, args: tuple[Expr, ...], like: Call) -> Call:
    return Call(dtype, "call_pure_extern", (StringImm(name), *args), span=like.span)


def libm_name(base: str, dtype: DataType) -> str | None:
    """The libm function computing ``base`` in ``dtype``: float32 (and the 16-bit floats,
    computed in float) use the ``f`` variant, float64 the plain one."""
    scalar = dtype.element_of()
    if not scalar.is_float:
        return None
    if scalar.bits == 64:
        return base
    return base + "f"


class _IntrinLowerer(IRMutator):
    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def visit_Call(self, node: Call) -> Expr:
        node = self.generic_mutate(node)
        op, dt = node.op, node.dtype
        if op in LIBM:
            name = libm_name(LIBM[op], dt)
            if name is None:
                raise pass_error(NAME, f"T.{op} of non-float type {dt} has no C library function", node)
            return _extern(dt, name, node.args, node)
        if op == "abs":
            (x,) = node.args
            if dt.is_float:
                return _extern(dt, libm_name("fabs", dt) or "fabs", (x,), node)
            if dt.is_uint or dt.is_bool:
                return x
            zero = arith.const(0, dt)
            if not isinstance(x, (Var, IntImm)):
                # x appears three times: bind it once, or each nested T.abs would triple the
                # printed tree (3^n for n levels; the printer hung on 100).
                v = Var("abs_x", dt)
                return Let(v, x, Select(arith.binop("lt", v, zero), arith.binop("sub", zero, v), v))
            return Select(arith.binop("lt", x, zero), arith.binop("sub", zero, x), x)
        if op == "exp10" and dt.is_float:
            return _extern(dt, libm_name("pow", dt) or "pow", (arith.const(10.0, dt), *node.args), node)
        if op == "rsqrt" and dt.is_float:
            return arith.binop("div", arith.const(1.0, dt), _extern(dt, libm_name("sqrt", dt) or "sqrt", node.args, node))
        if op == "sigmoid" and dt.is_float:
            (x,) = node.args
            neg = arith.binop("sub", arith.const(0.0, dt), x)
            denom = arith.binop("add", arith.const(1.0, dt), _extern(dt, libm_name("exp", dt) or "exp", (neg,), node))
            return arith.binop("div", arith.const(1.0, dt), denom)
        if op == "likely":
            return node.args[0]
        return node


class LowerIntrin:
    """Rewrites math builtins (``T.exp``, ``T.sqrt``, ``T.tanh``, ``T.round``...) to
    ``T.call_pure_extern`` of the C99 libm function for the dtype (``expf`` for float32,
    ``exp`` for float64), ``T.abs`` / ``T.rsqrt`` / ``T.sigmoid`` / ``T.exp10`` to
    expressions, and drops ``T.likely``. ``T.call_extern`` passes through untouched.

    Expects: any TIR. Guarantees: no math builtin the C backend would have to know remains;
    rerunning changes nothing.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _IntrinLowerer().visit(body))
