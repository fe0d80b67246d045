"""Replace vars by expressions throughout a statement or expression."""

from __future__ import annotations

from typing import Any

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Expr, Var
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.visitor import IRMutator


class Substituter(IRMutator):
    """Replaces each use of a var in ``mapping`` by its expression.

    Buffers are left as they are (their shapes never mention the vars passes substitute:
    block iterators, loop vars being unrolled or vectorized), so buffer identity survives.
    """

    def __init__(self, mapping: dict[Var, Expr]) -> None:
        self.mapping = mapping

    def visit_Var(self, node: Var) -> Expr:
        return self.mapping.get(node, node)

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node


def substitute(node: Node, mapping: dict[Var, Expr]) -> Any:
    """``node`` with every var of ``mapping`` replaced (the same object when none occurs)."""
    if not mapping:
        return node
    return Substituter(mapping).visit(node)
