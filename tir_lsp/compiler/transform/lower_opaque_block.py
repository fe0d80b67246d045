"""LowerOpaqueBlock: blocks become plain statements (TVM's ConvertBlocksToOpaque + LowerOpaqueBlock)."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Expr, Var, is_const_int
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import AllocBuffer, IfThenElse, SBlockRealize, Stmt, flatten_seq, seq
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error
from tir_lsp.compiler.transform.substitute import substitute

NAME = "LowerOpaqueBlock"


class _BlockLowerer(IRMutator):
    # Blocks are statements: expressions and buffers hold none.
    skip_types = (Expr, Buffer)

    def visit_SBlockRealize(self, node: SBlockRealize) -> Stmt:
        block = node.block
        if block.init is not None:
            raise pass_error(NAME, f"block {block.name} still has a T.init(); run LowerInitBlock first", block)
        if block.match_buffers:
            raise pass_error(NAME, f"block {block.name} uses T.match_buffer, which is not supported yet", block)
        if len(node.iter_values) != len(block.iter_vars):
            raise pass_error(
                NAME, f"block {block.name} binds {len(node.iter_values)} values to {len(block.iter_vars)} iterators", node
            )
        mapping: dict[Var, Expr] = {iv.var: v for iv, v in zip(block.iter_vars, node.iter_values)}
        body: Stmt = self.visit(substitute(block.body, mapping))
        predicate = substitute(node.predicate, mapping)
        if not is_const_int(predicate, 1):
            body = IfThenElse(predicate, body, span=node.span)
        allocs: list[Stmt] = [AllocBuffer(buf, dict(buf.annotations), span=buf.span) for buf in block.alloc_buffers]
        return seq(allocs + flatten_seq(body)) if allocs else body


class LowerOpaqueBlock:
    """Removes ``T.sblock`` / ``T.block``: iterators are replaced by their bound values,
    ``T.where`` becomes an ``if``, ``T.sblock_alloc_buffer`` becomes ``T.alloc_buffer``.

    Expects: no block has ``T.init()`` (LowerInitBlock ran) and none uses ``T.match_buffer``.
    Guarantees: no SBlock / SBlockRealize remains. IR without blocks is returned unchanged.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _BlockLowerer().visit(body))
