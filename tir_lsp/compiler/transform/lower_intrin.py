"""LowerIntrin: math builtins become calls of C99 libm functions (or plain expressions), by the
``lower`` rule of each builtin's entry in ``ir/builtins.py``."""

from __future__ import annotations

from collections.abc import Callable

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.builtins import BUILTINS, Libm
from tir_lsp.compiler.ir.dtype import DataType
from tir_lsp.compiler.ir.expr import Call, Expr, IntImm, Let, Select, StringImm, Var
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "LowerIntrin"


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


def _abs(node: Call) -> Expr:
    (x,) = node.args
    dt = node.dtype
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


def _exp10(node: Call) -> Expr:
    dt = node.dtype
    if not dt.is_float:
        return node
    return _extern(dt, libm_name("pow", dt) or "pow", (arith.const(10.0, dt), *node.args), node)


def _rsqrt(node: Call) -> Expr:
    dt = node.dtype
    if not dt.is_float:
        return node
    return arith.binop("div", arith.const(1.0, dt), _extern(dt, libm_name("sqrt", dt) or "sqrt", node.args, node))


def _sigmoid(node: Call) -> Expr:
    dt = node.dtype
    if not dt.is_float:
        return node
    (x,) = node.args
    neg = arith.binop("sub", arith.const(0.0, dt), x)
    denom = arith.binop("add", arith.const(1.0, dt), _extern(dt, libm_name("exp", dt) or "exp", (neg,), node))
    return arith.binop("div", arith.const(1.0, dt), denom)


def _likely(node: Call) -> Expr:
    return node.args[0]


# The rewrites the builtin table names by LowerHook (the Libm ones need no code).
HOOKS: dict[str, Callable[[Call], Expr]] = {
    "abs": _abs, "exp10": _exp10, "rsqrt": _rsqrt, "sigmoid": _sigmoid, "likely": _likely,
}


class _IntrinLowerer(IRMutator):
    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def visit_Call(self, node: Call) -> Expr:
        node = self.generic_mutate(node)
        info = BUILTINS.get(node.op)
        rule = info.lower if info is not None else None
        if rule is None:
            return node
        if isinstance(rule, Libm):
            name = libm_name(rule.base, node.dtype)
            if name is None:
                raise pass_error(NAME, f"T.{node.op} of non-float type {node.dtype} has no C library function", node)
            return _extern(node.dtype, name, node.args, node)
        return HOOKS[rule.name](node)


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
