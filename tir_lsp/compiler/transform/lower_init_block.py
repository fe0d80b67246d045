"""LowerInitBlock: a block's ``T.init()`` becomes an ``if`` on its reduction iterators."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T
from tir_lsp.compiler.ir.expr import BinOp, Expr
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import IfThenElse, SBlock, SeqStmt
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "LowerInitBlock"


class _InitLowerer(IRMutator):
    # Blocks are statements: expressions and buffers hold none.
    skip_types = (Expr, Buffer)

    def visit_SBlock(self, node: SBlock) -> SBlock:
        node = self.generic_mutate(node)
        if node.init is None:
            return node
        cond: Expr | None = None
        for iv in node.iter_vars:
            if iv.kind != "R":
                continue
            test = BinOp("eq", iv.var, iv.dom_min, BOOL_T, span=iv.span)
            cond = test if cond is None else BinOp("and", cond, test, BOOL_T)
        if cond is None:
            # Without a reduction axis no instance is "the first": the init has no meaning.
            raise pass_error(NAME, f"block {node.name} has T.init() but no reduction iterator", node.init)
        init = IfThenElse(cond, node.init, span=node.init.span)
        return node.with_(init=None, body=SeqStmt((init, node.body)))


class LowerInitBlock:
    """Replaces ``with T.init(): S`` of a block by ``if v_k == k_min and ...: S`` before its body.

    Expects: every block with an init has a reduction (``R``) iterator. Guarantees: no SBlock has an ``init``. Blocks without one are untouched,
    so lowered IR passes through unchanged.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _InitLowerer().visit(body))
