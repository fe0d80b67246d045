"""HoistReductionInit: a reduction's init moves from its first iteration to before its loop."""

from __future__ import annotations

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import BOOL_T
from tir_lsp.compiler.ir.expr import BinOp, Expr, Var
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import BufferStore, For, IfThenElse, SeqStmt, Stmt, flatten_seq
from tir_lsp.compiler.ir.structural import structural_equal
from tir_lsp.compiler.ir.visitor import IRMutator, map_bodies, walk
from tir_lsp.compiler.transform.arith import int_value
from tir_lsp.compiler.transform.pass_api import PipelineOptions

NAME = "HoistReductionInit"

# Loops an init may leave: their iterations run in order, the first with the loop var at min.
_ORDERED_KINDS = ("serial", "unroll")
# What an init may be made of: statements that bind nothing, so moving them into the
# enclosing sequence cannot change what later statements see.
_MOVABLE = (BufferStore, For, IfThenElse, SeqStmt)


def _conjuncts(cond: Expr) -> list[Expr]:
    if isinstance(cond, BinOp) and cond.op == "and":
        return _conjuncts(cond.a) + _conjuncts(cond.b)
    return [cond]


def _conjunction(terms: list[Expr]) -> Expr | None:
    out: Expr | None = None
    for t in terms:
        out = t if out is None else BinOp("and", out, t, BOOL_T)
    return out


def _is_first_iteration(term: Expr, loop: For) -> bool:
    """``k == min`` (either way round) for the loop var ``k`` of ``loop``."""
    if not (isinstance(term, BinOp) and term.op == "eq"):
        return False
    var, other = (term.a, term.b) if term.a is loop.loop_var else (term.b, term.a)
    return var is loop.loop_var and structural_equal(other, loop.min)


def _mentions(node: Stmt | Expr, var: Var) -> bool:
    found = False

    def visit(n: object) -> None:
        nonlocal found
        found = found or n is var

    walk(node, visit)
    return found


def _movable(s: Stmt) -> bool:
    return all(isinstance(x, _MOVABLE) for x in flatten_seq(s))


class _Hoister(IRMutator):
    # Only statements hold loops: expressions and buffers come back untouched, unvisited.
    skip_types = (Expr, Buffer)

    def visit_SeqStmt(self, node: SeqStmt) -> Stmt:
        parts = [self.visit(s) for s in node.stmts]
        if all(a is b for a, b in zip(parts, node.stmts)):
            return node
        # A hoisted init comes back as (init, loop): splice it so the sequence stays flat.
        out: list[Stmt] = []
        for p in parts:
            out.extend(flatten_seq(p))
        return SeqStmt(tuple(out))

    def visit_For(self, node: For) -> Stmt:
        loop: For = self.generic_mutate(node)
        extent = int_value(loop.extent)
        if loop.kind not in _ORDERED_KINDS or loop.thread_binding or loop.step is not None or extent is None or extent <= 0:
            return loop
        body = flatten_seq(loop.body)
        first = body[0] if body else None
        if not (isinstance(first, IfThenElse) and first.else_case is None and _movable(first.then_case)):
            return loop
        terms = _conjuncts(first.condition)
        rest = [t for t in terms if not _is_first_iteration(t, loop)]
        if len(rest) == len(terms) or _mentions(first.then_case, loop.loop_var):
            return loop
        if any(_mentions(t, loop.loop_var) for t in rest):
            return loop
        cond = _conjunction(rest)
        init: Stmt = first.then_case if cond is None else first.with_(condition=cond)
        remaining = body[1:]
        if not remaining:
            return init
        new_body = remaining[0] if len(remaining) == 1 else SeqStmt(tuple(remaining))
        return SeqStmt((*flatten_seq(init), loop.with_(body=new_body)))


class HoistReductionInit:
    """Turns ``for k: { if k == k_min [and c]: S; body }`` into ``[if c:] S; for k: body``,
    innermost loop first, so the ``if v_k == 0`` that LowerInitBlock puts in the reduction
    loops (as TVM does) ends up before them and a C compiler can keep the accumulator in a
    register and interchange or vectorize the loops.

    Expects: flattened, simplified IR (after Simplify), where the condition speaks of loop
    vars. A loop qualifies when it is serial or unroll with a constant positive extent and no
    step, its body starts with an ``if`` without else whose condition has a conjunct
    ``k == k_min``, and neither ``S`` nor the other conjuncts mention ``k``; ``S`` must bind
    nothing at its top level. Then the ``if`` ran exactly once, at the start of the first
    iteration, which is the same point in the execution as just before the loop.
    Guarantees: the same semantics; a loop whose body would be empty is dropped; applying it
    again (or to IR past its stage) changes nothing.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _Hoister().visit(body))
