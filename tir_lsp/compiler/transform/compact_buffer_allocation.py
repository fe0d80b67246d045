"""CompactBufferAllocation: a buffer allocated for more than its accesses need is allocated
inside the loops all its accesses share, with the extents one iteration of them touches."""

from __future__ import annotations

import dataclasses

from tir_lsp.compiler.ir.affine import Affine, affine
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import BufferLoad, Call, Expr, IntImm, Var
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.stmt import (
    AllocBuffer,
    BufferStore,
    DeclBuffer,
    For,
    SeqStmt,
    Stmt,
    flatten_seq,
    seq,
)
from tir_lsp.compiler.ir.visitor import IRMutator, IRVisitor, map_bodies
from tir_lsp.compiler.transform import arith
from tir_lsp.compiler.transform.pass_api import PipelineOptions

NAME = "CompactBufferAllocation"


class _Accesses(IRVisitor):
    """Every access to ``buf`` in a statement, with the loops around it; ``escaped`` when the
    buffer's memory is reachable another way (its pointer used, an alias, an address taken)."""

    def __init__(self, buf: Buffer) -> None:
        self.buf = buf
        self.loops: list[For] = []
        self.accesses: list[tuple[tuple[Expr, ...], tuple[For, ...]]] = []
        self.escaped = False

    def visit_For(self, node: For) -> None:
        self.visit(node.min)
        self.visit(node.extent)
        self.loops.append(node)
        self.visit(node.body)
        self.loops.pop()

    def _access(self, node: BufferLoad | BufferStore) -> None:
        if node.buffer is self.buf:
            self.accesses.append((node.indices, tuple(self.loops)))
        elif node.buffer.data is self.buf.data:
            self.escaped = True

    def visit_BufferLoad(self, node: BufferLoad) -> None:
        self._access(node)
        self.generic_visit(node)

    def visit_BufferStore(self, node: BufferStore) -> None:
        self._access(node)
        self.generic_visit(node)

    def visit_DeclBuffer(self, node: DeclBuffer) -> None:
        if node.buffer.data is self.buf.data:
            self.escaped = True
        self.generic_visit(node)

    def visit_Call(self, node: Call) -> None:
        # ``T.address_of(C[i])`` and friends: a load passed to a call may stand for a pointer.
        if any(isinstance(a, BufferLoad) and a.buffer.data is self.buf.data for a in node.args):
            self.escaped = True
        self.generic_visit(node)

    def visit_Var(self, node: Var) -> None:
        if node is self.buf.data:
            self.escaped = True


def _const(e: Expr) -> int | None:
    return e.value if isinstance(e, IntImm) else None


def _shared_loops(acc: _Accesses) -> list[For]:
    """The loops around every access (outermost first)."""
    shared = list(acc.accesses[0][1])
    for _, loops in acc.accesses[1:]:
        n = 0
        while n < len(shared) and n < len(loops) and loops[n] is shared[n]:
            n += 1
        del shared[n:]
    return shared


def _region(buf: Buffer, acc: _Accesses) -> tuple[int, list[tuple[Affine, int, int]]] | None:
    """(how many of the shared loops to go into, per dimension (outer part, lowest, highest
    index without the outer part)), or None when the buffer cannot be compacted.

    The allocation goes into the deepest shared loop such that each iteration of every loop
    it enters touches its own part of the buffer (nothing lives from one iteration to the
    next): each of those loops' variables is the one outer variable of some dimension, with
    a coefficient at least that dimension's new extent.
    """
    shared = _shared_loops(acc)
    for depth in range(len(shared), -1, -1):
        dims = _dims(buf, acc, shared[:depth])
        if dims is None:
            continue
        owners: dict[Var, int] = {}
        ok = True
        for outer, lo, hi in dims:
            if len(outer) > 1:
                ok = False
            for v, c in outer.items():
                if v is None or abs(c) < hi - lo + 1 or v in owners:
                    ok = False
                owners[v] = 1  # type: ignore[index]
        if not ok or len(owners) != depth:
            continue
        old = [_const(e) for e in buf.shape]
        new = [hi - lo + 1 for _, lo, hi in dims]
        if any(o is None for o in old) or any(n > o for n, o in zip(new, old)):  # type: ignore[operator]
            return None
        if new == old and depth == 0:
            return None
        return depth, dims
    return None


def _dims(buf: Buffer, acc: _Accesses, shared: list[For]) -> list[tuple[Affine, int, int]] | None:
    """Per dimension (outer part, lowest, highest index without it) when every access's
    index is affine in the ``shared`` loops' variables (the same part in every access) and
    in the variables of constant-range loops inside them, else None."""
    outer_vars = {f.loop_var for f in shared}
    dims: list[tuple[Affine, int, int]] = []  # outer part, lowest, highest
    for d in range(len(buf.shape)):
        outer_part: Affine | None = None
        lo = hi = 0
        for indices, loops in acc.accesses:
            form = affine(indices[d])
            if form is None:
                return None
            inner = {f.loop_var: f for f in loops[len(shared):]}
            this_outer: Affine = {}
            a_lo = a_hi = form.get(None, 0)
            for v, c in form.items():
                if v is None or c == 0:
                    continue
                if v in outer_vars:
                    this_outer[v] = c
                    continue
                loop = inner.get(v)
                if loop is None:
                    return None
                mn, ext = _const(loop.min), _const(loop.extent)
                if mn is None or ext is None or ext <= 0:
                    return None
                a, b = c * mn, c * (mn + ext - 1)
                a_lo, a_hi = a_lo + min(a, b), a_hi + max(a, b)
            if outer_part is None:
                outer_part, lo, hi = this_outer, a_lo, a_hi
            elif this_outer != outer_part:
                return None
            else:
                lo, hi = min(lo, a_lo), max(hi, a_hi)
        assert outer_part is not None
        dims.append((outer_part, lo, hi))
    return dims


class _Rebase(IRMutator):
    """Accesses to ``old`` become accesses to ``new`` at ``index - (outer part + min)``."""

    def __init__(self, old: Buffer, new: Buffer, offsets: list[tuple[Affine, int, int]]) -> None:
        self.old, self.new, self.offsets = old, new, offsets

    def _indices(self, indices: tuple[Expr, ...]) -> tuple[Expr, ...]:
        out = []
        for e, (outer, lo, _) in zip(indices, self.offsets):
            form = affine(e)
            assert form is not None  # _region checked every index
            index: Expr | None = None
            for v, c in form.items():
                if v is None or v in outer or c == 0:
                    continue
                term = v if c == 1 else arith.mul(v, arith.const(c, e.dtype))
                index = term if index is None else arith.add(index, term)
            rest = form.get(None, 0) - lo
            if index is None:
                index = arith.const(rest, e.dtype)
            elif rest:
                index = arith.add(index, arith.const(rest, e.dtype)) if rest > 0 else arith.sub(index, arith.const(-rest, e.dtype))
            out.append(index)
        return tuple(out)

    def visit_BufferLoad(self, node: BufferLoad) -> Expr:
        node = self.generic_mutate(node)
        if node.buffer is not self.old:
            return node
        return dataclasses.replace(node, buffer=self.new, indices=self._indices(node.indices))

    def visit_BufferStore(self, node: BufferStore) -> Stmt:
        node = self.generic_mutate(node)
        if node.buffer is not self.old:
            return node
        return dataclasses.replace(node, buffer=self.new, indices=self._indices(node.indices))


def _insert(stmt: Stmt, depth: int, alloc: AllocBuffer) -> Stmt | None:
    """``stmt`` with ``alloc`` first in the body of its ``depth``-th nested shared loop, or
    None when something other than loops and sequences lies on the way there."""
    if depth == 0:
        return seq([alloc, *flatten_seq(stmt)])
    if isinstance(stmt, For):
        body = _insert(stmt.body, depth - 1, alloc)
        return None if body is None else dataclasses.replace(stmt, body=body)
    if isinstance(stmt, SeqStmt):
        # The shared loop is in the one statement of the sequence that holds accesses.
        for i, s in enumerate(stmt.stmts):
            probe = _Accesses(alloc.buffer)
            probe.visit(s)
            if probe.accesses:
                new = _insert(s, depth, alloc)
                return None if new is None else dataclasses.replace(stmt, stmts=(*stmt.stmts[:i], new, *stmt.stmts[i + 1:]))
    return None


class _Compactor(IRMutator):
    skip_types = (Expr, Buffer)

    def visit_SeqStmt(self, node: SeqStmt) -> Stmt:
        node = self.generic_mutate(node)
        stmts = list(node.stmts)
        changed = False
        for p in range(len(stmts) - 1, -1, -1):
            s = stmts[p]
            if not isinstance(s, AllocBuffer) or s.scalar or s.buffer.strides or s.buffer.elem_offset is not None:
                continue
            rest = seq(stmts[p + 1:]) if p + 1 < len(stmts) else None
            if rest is None:
                continue
            acc = _Accesses(s.buffer)
            acc.visit(rest)
            if acc.escaped or not acc.accesses:
                continue
            region = _region(s.buffer, acc)
            if region is None:
                continue
            depth, dims = region
            shape = tuple(arith.const(hi - lo + 1, e.dtype) for (_, lo, hi), e in zip(dims, s.buffer.shape))
            new_buf = dataclasses.replace(s.buffer, shape=shape)
            body = _Rebase(s.buffer, new_buf, dims).visit(rest)
            alloc = dataclasses.replace(s, buffer=new_buf)
            placed = _insert(body, depth, alloc)
            if placed is None:
                continue
            stmts[p:] = flatten_seq(placed)
            changed = True
        return seq(stmts) if changed else node


class CompactBufferAllocation:
    """Moves each ``T.alloc_buffer`` (after LowerOpaqueBlock) into the innermost loop that
    holds all its accesses and shrinks it to what one iteration of that loop touches, as
    TVM's PlanAndUpdateBufferAllocationLocation + CompactBufferAllocation do: a
    ``cache_write`` tile of 256x256 used per 4x16 tile becomes a 4x16 array (a stack array
    the C compiler can keep in registers, instead of 256 KB of workspace).

    Expects: blocks lowered (LowerOpaqueBlock), buffers not yet flattened. Applies when
    every index is affine in the shared loops' variables (all accesses with the
    same coefficients) and in inner loops of constant range, and the buffer is reached only
    through its loads and stores. Anything else is left as it is.
    """

    name = NAME

    def apply(self, mod: IRModule, options: PipelineOptions) -> IRModule:
        return map_bodies(mod, lambda body: _Compactor().visit(body))
