"""A register-blocked GEMM: ``C[i, j] = sum over k of A(i, k) * B(k, j)``.

The output is cut into MR x NR tiles. One tile accumulates in a ``scope="local"`` buffer
(gcc keeps it in registers): for each k, MR values of A times NR contiguous values of B, the
rows unrolled and the columns a ``T.vectorized`` loop, so gcc emits packed multiply-adds
even at -O2 without -march. Sizes that the tiles do not divide get their own loop nests
with smaller tiles (the remainder rows, columns and corner), so no load or store leaves
the matrices. One block per tile: ``<name>_<mr>x<nr>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from tir_lsp.compiler.frontend.operators.base import StageWriter, at, index_const, lit, store_to
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value

# Tile sizes: 8 x 8 float accumulators are 16 SSE registers' worth of work per k with two
# loads of B, the best of 4x8, 4x16, 8x8 measured on a 256x576x192 GEMM at -O2 (x86-64).
MR, NR = 8, 8
# One row of A (M == 1, a dense layer at batch 1): a wider column tile, more independent sums.
NR_GEMV = 32

Load = Callable[[Value, Value], Value]


@dataclass
class GemmSpec:
    """What one GEMM reads and writes: ``a(i, k)``, ``b(k, j)`` are loads and ``c(i, j)``
    the element stored (a load of it), over index values. ``outer`` holds, while a block is
    written, its variables bound to the enclosing loops (``v_<name>``), for the loads to use."""

    name: str
    m: int
    n: int
    k: int
    a: Load
    b: Load
    c: Load
    # B packed in column panels, ``b_panel(k, panel, lane)`` = B(k, panel * nr + lane), each
    # panel K x nr contiguous (conv2d's im2col writes it so): the micro-kernel then streams
    # one contiguous panel instead of K rows of a wide matrix. Needs the column tile ``nr``.
    b_panel: Callable[[Value, Value, Value], Value] | None = None
    nr: int = 0
    # The accumulator's dtype: the loads' dtype (float16 inputs are read as float32).
    dtype: str = "float32"
    outer: list[Value] = field(default_factory=list)


def _plus(off: int, expr: Value | None) -> Value:
    """``off + expr`` without the terms that do nothing (None: the index 0)."""
    if expr is None:
        return index_const(off)
    return expr if off == 0 else off + expr


def _tile_index(size: int, count: int, off: int, tile: Value | None, inner: Value | None) -> Value:
    """The matrix index of element ``inner`` (None: 0) of tile ``tile``: ``count`` tiles of
    ``size`` from ``off`` (one tile has no variable)."""
    if size > 1:
        assert inner is not None
        return _plus(off, tile * size + inner if count > 1 and tile is not None else inner)
    return _plus(off, tile if count > 1 else None)


def tile_pieces(total: int, tile: int) -> list[tuple[int, int, int]]:
    """(tile count, tile size, offset) covering ``range(total)``: full tiles, then the rest."""
    tile = min(tile, total)
    out = [(total // tile, tile, 0)]
    if total % tile:
        out.append((1, total % tile, total // tile * tile))
    return out


@contextmanager
def _tile_loops(w: StageWriter, heads: Sequence[tuple[str, int, str]]) -> Iterator[list[Value]]:
    """The tile's row and column loops (name, extent, kind) around what is emitted inside;
    yields their variables."""
    if not heads:
        yield []
        return
    name, extent, kind = heads[0]
    with w.loop(name, extent, kind) as v, _tile_loops(w, heads[1:]) as rest:
        yield [v, *rest]


def emit_gemm(w: StageWriter, spec: GemmSpec, outer: Sequence[tuple[str, Value, int]]) -> None:
    """The loop nests of ``spec`` into ``w`` (inside the loops open there). ``outer`` names the
    enclosing loops (batch, group, row block: name, variable, extent) that the loads use: each
    block binds them as spatial axes ``v_<name>``, so its body reads only its own block
    variables; the loads find them in ``spec.outer``."""
    mr_full = min(MR, spec.m)
    nr_full = spec.nr or (NR if spec.m >= MR or spec.n < NR_GEMV else NR_GEMV)
    for mcount, mr, moff in tile_pieces(spec.m, mr_full):
        for ncount, nr, noff in tile_pieces(spec.n, nr_full):
            block = w.block_name(f"{spec.name}_{mr}x{nr}")
            names, extents = [], []
            # Column tiles outside: one K x NR panel of B stays in L1 while every row tile
            # passes over it (rows outside were 2x slower at 64 x 576 x 3136).
            if ncount > 1:
                names.append("jo")
                extents.append(ncount)
            if mcount > 1:
                names.append("io")
                extents.append(mcount)
            with w.grid(names, extents) as loops:
                axes = [(f"v_{n}", "S", e, v) for n, v, e in outer]
                axes += [(f"v_{n}", "S", e, v) for n, e, v in zip(names, extents, loops)]
                with w.block(block, axes) as blk:
                    bound = dict(zip([n for n, _, _ in outer] + names, blk.vars))
                    spec.outer[:] = blk.vars[:len(outer)]
                    v_io, v_jo = bound.get("io"), bound.get("jo")

                    acc = blk.alloc("acc", (mr, nr), spec.dtype, scope="local")
                    heads = [h for h in (("i", mr, "unroll") if mr > 1 else None,
                                         ("j", nr, "vectorized") if nr > 1 else None) if h is not None]

                    def ij(vs: list[Value], mr: int = mr, nr: int = nr) -> tuple[Value | None, Value | None]:
                        i = vs[0] if mr > 1 else None
                        j = vs[-1] if nr > 1 else None
                        return i, j

                    def tile(i: Value | None, j: Value | None, acc: Buffer = acc) -> Value:
                        return at(acc, [i if i is not None else index_const(0), j if j is not None else index_const(0)])

                    with _tile_loops(w, heads) as vs:
                        i, j = ij(vs)
                        w.emit(store_to(tile(i, j), lit(0, spec.dtype)))
                    with w.loop("k", spec.k) as k, _tile_loops(w, heads) as vs:
                        i, j = ij(vs)
                        if spec.b_panel is not None:
                            panel = v_jo if ncount > 1 and v_jo is not None else index_const(noff // nr_full)
                            load_b = spec.b_panel(k, panel, j if j is not None else index_const(0))
                        else:
                            load_b = spec.b(k, _tile_index(nr, ncount, noff, v_jo, j))
                        w.emit(store_to(tile(i, j), tile(i, j) + spec.a(_tile_index(mr, mcount, moff, v_io, i), k)
                                        * load_b))
                    with _tile_loops(w, heads) as vs:
                        i, j = ij(vs)
                        w.tile_store(spec.c(_tile_index(mr, mcount, moff, v_io, i),
                                            _tile_index(nr, ncount, noff, v_jo, j)), tile(i, j))


# The dot-product kernel: JR rows of a transposed B at a time, LANES partial sums per row.
JR, LANES = 4, 8


def emit_dot(w: StageWriter, spec: GemmSpec) -> None:
    """``spec`` for a B read along k (a dense layer's ``transB`` weights, N x K) and few rows
    of A: each C element is a dot product of two contiguous rows. LANES partial sums per
    element run as a ``T.vectorized`` loop over k (gcc does not reorder a float sum itself),
    added up at the end with the k remainder. Blocks ``<name>_dot_<jr>x<LANES>``."""
    kv = spec.k // LANES * LANES
    for count, jr, off in tile_pieces(spec.n, JR):
        block = w.block_name(f"{spec.name}_dot_{jr}x{LANES}")
        loops = [(v, e) for v, e in (("i", spec.m), ("jo", count)) if e > 1]
        with w.grid([v for v, _ in loops], [e for _, e in loops]) as lvs:
            axes = [(f"v_{n}", "S", e, v) for (n, e), v in zip(loops, lvs)]
            with w.block(block, axes) as blk:
                bound = dict(zip([n for n, _ in loops], blk.vars))
                row = bound["i"] if spec.m > 1 else index_const(0)
                v_jo = bound.get("jo")

                acc = blk.alloc("acc", (jr, LANES), spec.dtype, scope="local")
                heads = [("jj", jr, "unroll")] if jr > 1 else []

                def jj_of(vs: list[Value], jr: int = jr) -> Value | None:
                    return vs[0] if jr > 1 else None

                def cell(jj: Value | None, lane: ir.ExprLike, acc: Buffer = acc) -> Value:
                    return at(acc, [jj if jj is not None else index_const(0), lane])

                with _tile_loops(w, [*heads, ("l", LANES, "vectorized")]) as vs:
                    w.emit(store_to(cell(jj_of(vs), vs[-1]), lit(0, spec.dtype)))
                with w.loop("ko", spec.k // LANES) as ko, _tile_loops(w, [*heads, ("l", LANES, "vectorized")]) as vs:
                    jj, lane = jj_of(vs), vs[-1]
                    k = ko * LANES + lane
                    w.emit(store_to(cell(jj, lane), cell(jj, lane) + spec.a(row, k) * spec.b(k, _tile_index(jr, count, off, v_jo, jj))))
                with _tile_loops(w, heads) as vs:
                    jj = jj_of(vs)
                    if spec.k > kv:
                        with w.loop("kr", spec.k - kv) as kr_var:
                            kr = _plus(kv, kr_var)
                            w.emit(store_to(cell(jj, index_const(0)), cell(jj, index_const(0)) + spec.a(row, kr)
                                        * spec.b(kr, _tile_index(jr, count, off, v_jo, jj))))
                    total = cell(jj, index_const(0))
                    for n in range(1, LANES):
                        total = total + cell(jj, index_const(n))
                    w.tile_store(spec.c(row, _tile_index(jr, count, off, v_jo, jj)), total)
