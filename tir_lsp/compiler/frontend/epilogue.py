"""Epilogue fusion: a fused function's final expression (bias, folded batch norm, ReLU /
clip, a residual add...) applied to each register tile of its GEMM as the tile is stored,
instead of in a last pass over the output.

The GEMM micro-kernels (``schedules/gemm.py``) store each tile's accumulator once into a
buffer of the operator's output shape (``StageWriter.tile_outputs``). Elementwise fusion
makes the function's final expression read that buffer only at the index it writes, so
``out[idx] = final(idx)`` can be computed where ``acc[idx] = tile`` was stored, with the
tile's value for ``acc[idx]``: the output is written once, the buffer is gone, and the block
names say so (``conv2d_gemm_8x8`` -> ``conv2d_gemm_8x8_bias_relu``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from tir_lsp.compiler.frontend.operators.base import Expr, StageWriter
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value
from tir_lsp.compiler.ir.expr import BinOp, BufferLoad, IntImm
from tir_lsp.compiler.ir.expr import Expr as Expr_
from tir_lsp.compiler.ir.stmt import BufferStore, SBlock, SeqStmt, Stmt
from tir_lsp.compiler.ir.structural import structural_equal
from tir_lsp.compiler.ir.visitor import IRMutator, IRVisitor


class _NotFusable(Exception):
    """The final expression reads the tile output somewhere else than at the stored index."""


def fuse_epilogue(w: StageWriter, final: Expr, out: Buffer, labels: Sequence[str]) -> Stmt | None:
    """The body of ``w`` with ``final`` (the function's final expression, writing ``out``)
    applied at the tile stores of its one tile output, whose blocks get ``_<label>...``
    appended to their names (the operator's own label first, e.g. "bias", then
    ``labels``); the tile output is dropped from ``w``'s buffers. None (and ``w``
    unchanged) when the function has no single tile output of ``out``'s shape, or the final
    expression reads it elsewhere than at the stored index."""
    if len(w.tile_outputs) != 1:
        return None
    (name, own), = w.tile_outputs.items()
    acc = next((b for b in [*w.scratch, *w.allocs] if b.name == name), None)
    if acc is None or ir.dims(acc) != ir.dims(out):
        return None
    body = w.body()
    uses = _Uses(acc)
    uses.visit(body)
    if uses.loads:
        return None
    suffix = "".join(f"_{x}" for x in [own, *labels] if x)
    flat = _FlatViews(w)
    try:
        fused = _ApplyAtStore(acc, out, final, suffix, flat).visit(body)
    except _NotFusable:
        return None
    for bufs in (w.scratch, w.allocs):
        if acc in bufs:
            bufs.remove(acc)
    stmts = fused.stmts if isinstance(fused, SeqStmt) else (fused,)
    return ir.seq(*(ir.decl_buffer(v) for v in flat.views.values()), *stmts)


class _Uses(IRVisitor):  # type: ignore[misc, unused-ignore]  # Any when imports are skipped
    """Counts the loads of one buffer (a tile output is only stored)."""

    def __init__(self, buf: Buffer) -> None:
        self.buf, self.loads = buf, 0

    def visit_BufferLoad(self, node: BufferLoad) -> None:
        if node.buffer is self.buf:
            self.loads += 1
        self.generic_visit(node)


class _ApplyAtStore(IRMutator):  # type: ignore[misc, unused-ignore]  # Any when imports are skipped
    """Each store ``acc[idx] = v`` made ``out[idx] = final(idx)`` with ``v`` for
    ``acc[idx]``; the innermost block around such a store renamed with ``suffix``."""

    def __init__(self, acc: Buffer, out: Buffer, final: Expr, suffix: str, flat: _FlatViews) -> None:
        self.acc, self.out, self.final, self.suffix, self.flat = acc, out, final, suffix, flat
        self.pending = False

    def visit_BufferStore(self, node: BufferStore) -> Stmt:
        if node.buffer is not self.acc:
            return self.generic_mutate(node)  # type: ignore[no-any-return]
        value = _Substitute(self.acc, node.indices, node.value).visit(self.final([Value(i) for i in node.indices]).node)
        self.pending = True
        buf, indices = self.flat.access(self.out, node.indices)
        return ir.store(buf, self.flat.visit(value), *indices)

    def visit_SBlock(self, node: SBlock) -> SBlock:
        new = self.generic_mutate(node)
        if self.pending:
            self.pending = False
            new = dataclasses.replace(new, name=node.name + self.suffix)
        return new  # type: ignore[no-any-return]


class _Substitute(IRMutator):  # type: ignore[misc, unused-ignore]  # Any when imports are skipped
    """Loads of ``acc`` at ``indices`` replaced by ``value``."""

    def __init__(self, acc: Buffer, indices: tuple[object, ...], value: object) -> None:
        self.acc, self.indices, self.value = acc, indices, value

    def visit_BufferLoad(self, node: BufferLoad) -> object:
        if node.buffer is not self.acc:
            return self.generic_mutate(node)
        if not structural_equal(node.indices, self.indices):
            raise _NotFusable
        return self.value


class _FlatViews(IRMutator):  # type: ignore[misc, unused-ignore]  # Any when imports are skipped
    """Accesses ``B[..., e // W, e % W]`` of a buffer whose last dimension is ``W`` made
    ``B_flat[..., e]`` of a view with the last two dimensions as one (the same element): a
    convolution's tile stores the pixels ``e`` of a row-major image, contiguous in the view,
    so the stores and the residual loads are vectors instead of a division per element."""

    def __init__(self, w: StageWriter) -> None:
        self.w = w
        self.views: dict[str, Buffer] = {}

    def access(self, buf: Buffer, indices: tuple[Expr_, ...]) -> tuple[Buffer, tuple[Expr_, ...]]:
        dims = ir.dims(buf)
        if len(indices) < 2 or len(dims) < 2:
            return buf, indices
        div, mod = indices[-2], indices[-1]
        if not (isinstance(div, BinOp) and div.op == "floordiv" and isinstance(mod, BinOp) and mod.op == "floormod"
                and isinstance(div.b, IntImm) and isinstance(mod.b, IntImm) and div.b.value == mod.b.value == dims[-1]
                and structural_equal(div.a, mod.a)):
            return buf, indices
        if buf.name not in self.views:
            self.views[buf.name] = ir.buffer(self.w.fresh(f"{buf.name}_flat"), (*dims[:-2], dims[-2] * dims[-1]),
                                             buf.dtype, data=buf.data)
        return self.views[buf.name], (*indices[:-2], div.a)

    def visit_BufferLoad(self, node: BufferLoad) -> BufferLoad:
        new = self.generic_mutate(node)
        buf, indices = self.access(new.buffer, new.indices)
        return new if buf is new.buffer else ir.load(buf, *indices)
