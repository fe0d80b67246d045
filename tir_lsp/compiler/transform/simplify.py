"""Simplify: constant folding, arithmetic identities and facts from loop ranges."""

from __future__ import annotations

from tir_lsp.compiler.ir.expr import BinOp, Expr, IntImm
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import AssertStmt, For, IfThenElse, SeqStmt, Stmt, flatten_seq
from tir_lsp.compiler.ir.visitor import map_bodies
from tir_lsp.compiler.transform.arith import ExprSimplifier, int_value
from tir_lsp.compiler.transform.pass_api import PipelineOptions, pass_error

_EMPTY = SeqStmt(())


def _is_empty(s: Stmt) -> bool:
    return isinstance(s, SeqStmt) and not s.stmts


class _StmtSimplifier(ExprSimplifier):
    def visit_BinOp(self, node: BinOp) -> Expr:
        if node.op in ("div", "floordiv", "truncmod", "floormod") and isinstance(node.b, IntImm) and node.b.value == 0:
            raise pass_error("Simplify", "integer division by zero", node)
        return super().visit_BinOp(node)

    def visit_For(self, node: For) -> Stmt:
        lo, ext = int_value(self.visit(node.min)), int_value(self.visit(node.extent))
        if ext is not None and ext <= 0:
            return _EMPTY
        known = lo is not None and ext is not None and node.step is None
        if known:
            assert lo is not None and ext is not None
            self.bounds[node.loop_var] = (lo, lo + ext - 1)
        try:
            new: Stmt = self.generic_mutate(node)
        finally:
            self.bounds.pop(node.loop_var, None)
        return new

    def visit_IfThenElse(self, node: IfThenElse) -> Stmt:
        cond: Expr = self.visit(node.condition)
        c = int_value(cond)
        if c is not None:
            branch = node.then_case if c else node.else_case
            taken: Stmt = self.visit(branch) if branch is not None else _EMPTY
            return taken
        then_case = self.visit(node.then_case)
        else_case = self.visit(node.else_case) if node.else_case is not None else None
        if else_case is not None and _is_empty(else_case):
            else_case = None
        if cond is node.condition and then_case is node.then_case and else_case is node.else_case:
            return node
        return node.with_(condition=cond, then_case=then_case, else_case=else_case)

    def visit_AssertStmt(self, node: AssertStmt) -> Stmt:
        new: AssertStmt = self.generic_mutate(node)
        if isinstance(new.condition, IntImm) and new.condition.value:
            return _EMPTY
        return new

    def visit_SeqStmt(self, node: SeqStmt) -> Stmt:
        parts = [self.visit(s) for s in node.stmts]
        if all(a is b for a, b in zip(parts, node.stmts)):
            return node
        kept: list[Stmt] = []
        for p in parts:
            kept.extend(s for s in flatten_seq(p) if not _is_empty(s))
        return SeqStmt(tuple(kept)) if len(kept) != 1 else kept[0]


class Simplify:
    """Folds constants (integer and boolean), applies identities (``x * 1``, ``x + 0``,
    ``x * 0``, ``x // 1``), uses loop ranges to decide ``i // 16 -> 0``, ``i % 16 -> i``,
    ``(i * 16 + j) // 16 -> i`` and comparisons, and removes ifs and asserts whose condition
    is constant and loops with no iterations. Float arithmetic is left alone (folding it would
    need the target's rounding).

    Expects: no integer division by a constant zero. Guarantees: the same semantics; simplified IR is a fixed point.
    """

    name = "Simplify"

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _StmtSimplifier().visit(body))

