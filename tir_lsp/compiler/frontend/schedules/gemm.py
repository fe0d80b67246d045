"""A register-blocked GEMM as TIR text: ``C[i, j] = sum over k of A(i, k) * B(k, j)``.

The output is cut into MR x NR tiles. One tile accumulates in a ``scope="local"`` buffer
(gcc keeps it in registers): for each k, MR values of A times NR contiguous values of B, the
rows unrolled and the columns a ``T.vectorized`` loop, so gcc emits packed multiply-adds
even at -O2 without -march. Sizes that the tiles do not divide get their own loop nests
with smaller tiles (the remainder rows, columns and corner), so no load or store leaves
the matrices. One block per tile: ``<name>_<mr>x<nr>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tir_lsp.compiler.frontend.operators.base import StageWriter, lit

# Tile sizes: 8 x 8 float accumulators are 16 SSE registers' worth of work per k with two
# loads of B, the best of 4x8, 4x16, 8x8 measured on a 256x576x192 GEMM at -O2 (x86-64).
MR, NR = 8, 8
# One row of A (M == 1, a dense layer at batch 1): a wider column tile, more independent sums.
NR_GEMV = 32

Load = Callable[[str, str], str]


@dataclass
class GemmSpec:
    """What one GEMM reads and writes: ``a(i, k)``, ``b(k, j)`` are loads and ``c(i, j)``
    the element stored, as TIR text over index expressions."""

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
    b_panel: Callable[[str, str, str], str] | None = None
    nr: int = 0
    # The accumulator's dtype: the loads' dtype (float16 inputs are read as float32).
    dtype: str = "float32"


def _local(shape: str, dtype: str) -> str:
    """A tile accumulator of ``dtype`` in registers (``scope="local"``)."""
    kind = "" if dtype == "float32" else f", \"{dtype}\""
    return f"T.sblock_alloc_buffer({shape}{kind}, scope=\"local\")"


def block_name(w: StageWriter, base: str) -> str:
    """``base``, or ``base_<k>`` when a block of that name exists in the function."""
    name, k = base, 0
    while name in w.blocks:
        k += 1
        name = f"{base}_{k}"
    w.blocks.add(name)
    return name


def _plus(off: int, expr: str) -> str:
    if expr == "0":
        return str(off)
    return expr if off == 0 else f"{off} + {expr}"


def tile_pieces(total: int, tile: int) -> list[tuple[int, int, int]]:
    """(tile count, tile size, offset) covering ``range(total)``: full tiles, then the rest."""
    tile = min(tile, total)
    out = [(total // tile, tile, 0)]
    if total % tile:
        out.append((1, total % tile, total // tile * tile))
    return out


def _tile_loops(heads: list[str], stmt: str, indent: str) -> list[str]:
    """``stmt`` inside the tile's row and column loops."""
    out = []
    for h in heads:
        out.append(f"{indent}{h}")
        indent += "    "
    return [*out, f"{indent}{stmt}"]


def emit_gemm(w: StageWriter, spec: GemmSpec, outer: list[tuple[str, int]], indent: str = "") -> None:
    """The loop nests of ``spec`` into ``w.lines`` at ``indent``. ``outer`` names loop
    variables (with extents) of enclosing loops (batch, group, row block) that the loads use: each block
    binds them as spatial axes, so its body reads only its own block variables. The loads
    receive those block variables as ``v_<name>``."""
    mr_full = min(MR, spec.m)
    nr_full = spec.nr or (NR if spec.m >= MR or spec.n < NR_GEMV else NR_GEMV)
    ind = "    "
    for mcount, mr, moff in tile_pieces(spec.m, mr_full):
        for ncount, nr, noff in tile_pieces(spec.n, nr_full):
            block = block_name(w, f"{spec.name}_{mr}x{nr}")
            loops, extents = [], []
            # Column tiles outside: one K x NR panel of B stays in L1 while every row tile
            # passes over it (rows outside were 2x slower at 64 x 576 x 3136).
            if ncount > 1:
                loops.append("jo")
                extents.append(ncount)
            if mcount > 1:
                loops.append("io")
                extents.append(mcount)
            bind_loops = [v for v, _ in outer] + loops
            bind_extents = [e for _, e in outer] + extents
            bvars = [f"v_{v}" for v in bind_loops]
            row = _plus(moff, f"v_io * {mr} + i" if mcount > 1 else "i") if mr > 1 else _plus(moff, "v_io" if mcount > 1 else "0")
            col = _plus(noff, f"v_jo * {nr} + j" if ncount > 1 else "j") if nr > 1 else _plus(noff, "v_jo" if ncount > 1 else "0")
            lines = []
            d = indent
            if loops:
                lines.append(f"{d}for {', '.join(loops)} in T.grid({', '.join(map(str, extents))}):")
                d += ind
            lines.append(f"{d}with T.sblock(\"{block}\"):")
            d += ind
            if len(bind_loops) == 1:
                lines.append(f"{d}{bvars[0]} = T.axis.spatial({bind_extents[0]}, {bind_loops[0]})")
            elif bind_loops:
                lines.append(f"{d}{', '.join(bvars)} = T.axis.remap(\"{'S' * len(bvars)}\", [{', '.join(bind_loops)}])")
            acc = "acc"
            lines.append(f"{d}{acc} = {_local(f'({mr}, {nr})', spec.dtype)}")
            heads = [h for h in (f"for i in T.unroll({mr}):" if mr > 1 else "",
                                 f"for j in T.vectorized({nr}):" if nr > 1 else "") if h]
            tile = f"{acc}[{'i' if mr > 1 else '0'}, {'j' if nr > 1 else '0'}]"
            lines += _tile_loops(heads, f"{tile} = {lit(0, spec.dtype)}", d)
            lines.append(f"{d}for k in range({spec.k}):")
            if spec.b_panel is not None:
                panel = "v_jo" if ncount > 1 else str(noff // nr_full)
                load_b = spec.b_panel("k", panel, "j" if nr > 1 else "0")
            else:
                load_b = spec.b("k", col)
            lines += _tile_loops(heads, f"{tile} = {tile} + {spec.a(row, 'k')} * {load_b}", d + ind)
            lines += _tile_loops(heads, f"{spec.c(row, col)} = {tile}", d)
            w.lines.extend(lines)


# The dot-product kernel: JR rows of a transposed B at a time, LANES partial sums per row.
JR, LANES = 4, 8


def emit_dot(w: StageWriter, spec: GemmSpec) -> None:
    """``spec`` for a B read along k (a dense layer's ``transB`` weights, N x K) and few rows
    of A: each C element is a dot product of two contiguous rows. LANES partial sums per
    element run as a ``T.vectorized`` loop over k (gcc does not reorder a float sum itself),
    added up at the end with the k remainder. Blocks ``<name>_dot_<jr>x<LANES>``."""
    kv = spec.k // LANES * LANES
    ind = "    "
    for count, jr, off in tile_pieces(spec.n, JR):
        block = block_name(w, f"{spec.name}_dot_{jr}x{LANES}")
        loops = [(v, e) for v, e in (("i", spec.m), ("jo", count)) if e > 1]
        d = ""
        lines = []
        if loops:
            lines.append(f"for {', '.join(v for v, _ in loops)} in T.grid({', '.join(str(e) for _, e in loops)}):")
            d = ind
        lines.append(f"{d}with T.sblock(\"{block}\"):")
        d += ind
        if len(loops) == 1:
            lines.append(f"{d}v_{loops[0][0]} = T.axis.spatial({loops[0][1]}, {loops[0][0]})")
        elif loops:
            lines.append(f"{d}v_i, v_jo = T.axis.remap(\"SS\", [i, jo])")
        row = "v_i" if spec.m > 1 else "0"
        col = _plus(off, (f"v_jo * {jr} + jj" if count > 1 else "jj") if jr > 1 else ("v_jo" if count > 1 else "0"))
        jj = "jj" if jr > 1 else "0"
        heads = [f"for jj in T.unroll({jr}):"] if jr > 1 else []
        lines.append(f"{d}acc = {_local(f'({jr}, {LANES})', spec.dtype)}")
        lines += _tile_loops([*heads, f"for l in T.vectorized({LANES})"+":"], f"acc[{jj}, l] = {lit(0, spec.dtype)}", d)
        lines.append(f"{d}for ko in range({spec.k // LANES}):")
        k = f"ko * {LANES} + l"
        lines += _tile_loops([*heads, f"for l in T.vectorized({LANES}):"],
                             f"acc[{jj}, l] = acc[{jj}, l] + {spec.a(row, k)} * {spec.b(k, col)}", d + ind)
        body = d + (ind if heads else "")
        if heads:
            lines.append(f"{d}{heads[0]}")
        if spec.k > kv:
            kr = _plus(kv, "kr")
            lines.append(f"{body}for kr in range({spec.k - kv}):")
            lines.append(f"{body}{ind}acc[{jj}, 0] = acc[{jj}, 0] + {spec.a(row, kr)} * {spec.b(kr, col)}")
        total = " + ".join(f"acc[{jj}, {lane}]" for lane in range(LANES))
        lines.append(f"{body}{spec.c(row, col)} = {total}")
        w.lines.extend(lines)
