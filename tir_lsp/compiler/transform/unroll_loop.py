"""UnrollLoop: short ``T.unroll`` loops become one copy of the body per iteration."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Expr, Var
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.stmt import (
    Allocate,
    AllocateConst,
    AllocBuffer,
    Bind,
    DeclBuffer,
    For,
    LaunchThread,
    Stmt,
    flatten_seq,
    seq,
)
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies, walk
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.arith import ExprSimplifier, int_value
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

NAME = "UnrollLoop"

# Statements that bind a name for the rest of their sequence: copies of a body holding one
# would bind the same var twice in one scope, so such loops keep the loop form.
_BINDERS = (Bind, AllocBuffer, Allocate, AllocateConst, DeclBuffer, LaunchThread)


def _has_binder(stmt: Stmt) -> bool:
    found = False

    def check(n: Node) -> None:
        nonlocal found
        found = found or isinstance(n, _BINDERS)

    walk(stmt, check)
    return found


def _thread_loop(stmt: Stmt) -> For | None:
    found: list[For] = []
    walk(stmt, lambda n: found.append(n) if isinstance(n, For) and n.kind == "thread_binding" else None)
    return found[0] if found else None


class _CopyMaker(ExprSimplifier):
    """One copy of an unrolled body: the loop var replaced by its value and the now-constant
    index math folded (``0 * 16 + j`` -> ``j``), in one walk. The same as ``substitute`` then
    ``ExprSimplifier``: both rebuild bottom-up and leave buffers alone."""

    def __init__(self, mapping: dict[Var, Expr]) -> None:
        super().__init__()
        self.mapping = mapping

    def visit_Var(self, node: Var) -> Expr:
        return self.mapping.get(node, node)


class _Unroller(IRMutator):
    # Loops are statements: expressions and buffers hold none.
    skip_types = (Expr, Buffer)

    def __init__(self, max_extent: int) -> None:
        self.max_extent = max_extent

    def visit_Buffer(self, node: Buffer) -> Buffer:
        return node

    def visit_For(self, node: For) -> Stmt:
        node = self.generic_mutate(node)
        if node.kind != "unroll":
            return node
        inner = _thread_loop(node.body)
        if inner is not None:
            raise pass_error(NAME, f"cannot unroll loop {node.loop_var.name} around thread-bound loop {inner.loop_var.name}", inner)
        lo, ext = int_value(node.min), int_value(node.extent)
        if lo is None or ext is None or ext > self.max_extent or node.step is not None or _has_binder(node.body):
            return node
        copies: list[Stmt] = []
        for k in range(lo, lo + ext):
            body = _CopyMaker({node.loop_var: arith.const(k, node.loop_var.dtype)}).visit(node.body)
            copies.extend(flatten_seq(body))
        return seq(copies)


class UnrollLoop:
    """Replaces a ``T.unroll`` loop with constant bounds, extent at most
    ``options.max_unroll_extent`` (16) and no binding statement in its body by the body
    repeated once per iteration, the loop var replaced by each value.

    Longer loops, loops with symbolic bounds and loops whose body binds names keep their
    ``T.unroll`` kind; the C backend emits them with ``#pragma GCC unroll N``.
    Expects: no T.unroll loop around a GPU thread-bound loop (that is a TIR201 error).
    Guarantees: semantics unchanged; the result is a fixed point of the pass.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _Unroller(options.max_unroll_extent).visit(body))
