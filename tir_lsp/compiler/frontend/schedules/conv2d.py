"""2-D convolution (NCHW) as im2col + the register-blocked GEMM of ``gemm.py``.

Per image and group, ``out[f, p] = sum over k of W[f, k] * col[k, p]`` with ``k`` running
over (input channel, kernel row, kernel column) and ``p`` over output pixels. ``col`` is a
workspace buffer filled by the ``conv2d_im2col`` block, padding read as zeros through guards
on the sides a window crosses, packed in panels of NR pixels (``col[p // NR, k, p % NR]``)
so the micro-kernel streams contiguous memory (1.1-1.6x over a K x P matrix, measured;
1x1 convolutions too, for the same reason). It holds a block of output rows at a time so
that it stays under ``COL_BUDGET`` floats; the GEMM then runs on that row block.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass

from tir_lsp.compiler.frontend.operators.base import (
    StageWriter,
    accum_dtype,
    affine,
    at,
    index_const,
    lit,
    store_to,
)
from tir_lsp.compiler.frontend.schedules.gemm import NR, GemmSpec, emit_gemm, tile_pieces
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value
from tir_lsp.compiler.ir.expr import BinOp

# Floats in one im2col block (2 MiB): rows of output pixels are gathered up to this size.
COL_BUDGET = 1 << 19


def _after(prefix: Value | None, e: Value) -> Value:
    """``prefix + e`` grouped from the left through the sums and differences of ``e`` (as
    ``v_g * 4 + v_io * 8 + i``: the channel offset of a group before a tile's row)."""
    if prefix is None:
        return e
    node = e.node
    if isinstance(node, BinOp) and node.op in ("add", "sub"):
        return Value(ir.arith(node.op, _after(prefix, Value(node.a)), node.b))
    return prefix + e


@dataclass
class _Conv:
    """One convolution's buffers and geometry, shared by its row blocks."""

    x: Buffer
    wmat: Buffer  # the weights as a (cout, cin_g * kh * kw) matrix
    acc: Buffer
    col: Buffer
    kernel: tuple[int, int]
    cin_g: int  # input channels per group
    strides: list[int]
    dils: list[int]
    begin: list[int]
    groups: int
    dtype: str
    acc_dt: str


def conv2d_nchw(w: StageWriter, x: Buffer, wt: Buffer, acc: Buffer, strides: list[int], dils: list[int],
                begin: list[int], groups: int, dtype: str = "float32") -> None:
    """Writes ``acc[n, f, oh, ow]`` = the convolution of buffer ``x`` (of ``dtype``) with
    weights ``wt`` (no bias) into ``w``. The weights, ``acc`` and the im2col buffer have the
    accumulation dtype (float32 for a float16 ``x``, which im2col converts)."""
    batch = ir.dims(x)[0]
    cout, cin_g, kh, kw = ir.dims(wt)
    oh, ow = ir.dims(acc)[2:]
    kk = cin_g * kh * kw
    acc_dt = accum_dtype(dtype)
    wmat = ir.buffer(w.fresh(f"{wt.name}_mat"), (cout, kk), acc_dt, data=wt.data)
    w.emit(ir.decl_buffer(wmat))
    rows = max(1, min(oh, COL_BUDGET // (kk * ow)))
    col = w.alloc("conv2d_col", (-(-rows * ow // NR), kk, NR), acc_dt)
    conv = _Conv(x, wmat, acc, col, (kh, kw), cin_g, strides, dils, begin, groups, dtype, acc_dt)
    with ExitStack() as loops:
        outer: list[tuple[str, Value, int]] = []
        for name, extent in (("n", batch), ("g", groups)):
            if extent > 1:
                outer.append((name, loops.enter_context(w.loop(name, extent)), extent))
        for count, size, off in tile_pieces(oh, rows):
            with ExitStack() as piece_loops:
                piece = list(outer)
                if count > 1:
                    piece.append(("rb", piece_loops.enter_context(w.loop("rb", count)), count))
                _row_block(w, conv, piece, count, size, off)


def _row_block(w: StageWriter, c: _Conv, piece: list[tuple[str, Value, int]], count: int, size: int,
               off: int) -> None:
    """im2col of ``size`` output rows from row ``off`` (of block ``v_rb`` when ``count`` > 1),
    then the GEMM of the weights with it, inside the loops of ``piece``."""
    height, width = ir.dims(c.x)[2:]
    kh, kw, cin_g = *c.kernel, c.cin_g
    kk = cin_g * kh * kw
    cout_g = ir.dims(c.wmat)[0] // c.groups
    oh, ow = ir.dims(c.acc)[2:]
    sh, sw = c.strides
    dh, dw = c.dils
    bh, bw = c.begin
    names = [v for v, _, _ in piece]
    first = count == 1 and off == 0  # rows from 0: ``v_r`` itself

    def row0(b: dict[str, Value]) -> Value:
        if count == 1:
            return index_const(off)
        return b["rb"] * size if off == 0 else off + b["rb"] * size

    def image(b: dict[str, Value]) -> Value:
        return b["n"] if "n" in b else index_const(0)

    def offset(b: dict[str, Value], per_group: int) -> Value | None:
        return b["g"] * per_group if "g" in b else None

    block = w.block_name("conv2d_im2col")
    with w.grid(["k", "r", "q"], [kk, size, ow]) as (k, r, q):
        axes = [(f"v_{nm}", "S", e, v) for nm, v, e in piece]
        axes += [("v_k", "S", kk, k), ("v_r", "S", size, r), ("v_q", "S", ow, q)]
        with w.block(block, axes) as blk:
            b = dict(zip(names, blk.vars))
            v_k, v_r, v_q = blk.vars[-3:]
            c_in = v_k if kh * kw == 1 else v_k // (kh * kw)
            k_h = index_const(0) if kh == 1 else v_k // kw % kh if kw > 1 else v_k % kh
            k_w = index_const(0) if kw == 1 else v_k % kw
            y = affine(v_r if first else row0(b) + v_r, sh, k_h, dh, bh)
            xx = affine(v_q, sw, k_w, dw, bw)
            conds: list[Value] = []
            if bh > 0:
                conds.append(ir.le(0, y))
            if (oh - 1) * sh + (kh - 1) * dh - bh >= height:
                conds.append(y < height)
            if bw > 0:
                conds.append(ir.le(0, xx))
            if (ow - 1) * sw + (kw - 1) * dw - bw >= width:
                conds.append(xx < width)
            load = at(c.x, [image(b), _after(offset(b, cin_g), c_in), y, xx])
            load = load if c.acc_dt == c.dtype else Value(ir.cast(c.acc_dt, load))
            if conds:
                load = ir.if_then_else(ir.logical_and(*conds), load, lit(0, c.acc_dt))
            w.emit(store_to(at(c.col, [(v_r * ow + v_q) // NR, v_k, (v_r * ow + v_q) % NR]), load))

    outer: list[Value] = []  # the GEMM block's own variables of ``piece`` (``spec.outer``)

    def weight(i: Value, k: Value) -> Value:
        return at(c.wmat, [_after(offset(dict(zip(names, outer)), cout_g), i), k])

    def store(i: Value, j: Value) -> Value:
        # Pixel ``p`` of the image as (p // ow, p % ow): the epilogue sees one contiguous
        # run of pixels per tile row (``epilogue._FlatViews``).
        b = dict(zip(names, outer))
        p = j if first else row0(b) * ow + j
        return at(c.acc, [image(b), _after(offset(b, cout_g), i), p // ow, p % ow])

    emit_gemm(w, GemmSpec("conv2d_gemm", cout_g, size * ow, kk, weight, lambda k, j: at(c.col, [j // NR, k, j % NR]),
                          store, b_panel=lambda k, panel, lane: at(c.col, [panel, k, lane]), nr=NR,
                          dtype=c.acc_dt, outer=outer), piece)
