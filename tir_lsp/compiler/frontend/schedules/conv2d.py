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

from tir_lsp.compiler.frontend.operators.base import StageWriter, accum_dtype, affine, lit
from tir_lsp.compiler.frontend.schedules.gemm import NR, GemmSpec, block_name, emit_gemm, tile_pieces

# Floats in one im2col block (2 MiB): rows of output pixels are gathered up to this size.
COL_BUDGET = 1 << 19

_IND = "    "


def conv2d_nchw(w: StageWriter, x: str, x_shape: tuple[int, ...], wt: str, w_shape: tuple[int, ...], acc: str,
                out_shape: tuple[int, ...], strides: list[int], dils: list[int], begin: list[int], groups: int,
                dtype: str = "float32") -> None:
    """Writes ``acc[n, f, oh, ow]`` = the convolution of buffer ``x`` (of ``dtype``) with
    weights ``wt`` (no bias) into ``w``. The weights, ``acc`` and the im2col buffer have the
    accumulation dtype (float32 for a float16 ``x``, which im2col converts)."""
    batch, _, height, width = x_shape
    cout, cin_g, kh, kw = w_shape
    _, _, oh, ow = out_shape
    cout_g, kk = cout // groups, cin_g * kh * kw
    wmat = w.fresh(f"{wt}_mat")
    acc_dt = accum_dtype(dtype)
    kind = "" if acc_dt == "float32" else f", \"{acc_dt}\""
    w.lines.append(f"{wmat} = T.decl_buffer(({cout}, {kk}){kind}, data={wt}.data)")
    outer: list[tuple[str, int]] = []
    indent = ""
    if batch > 1:
        w.lines.append(f"for n in range({batch}):")
        outer.append(("n", batch))
        indent += _IND
    if groups > 1:
        w.lines.append(f"{indent}for g in range({groups}):")
        outer.append(("g", groups))
        indent += _IND
    n = "v_n" if batch > 1 else "0"
    chan0 = f"v_g * {cout_g} + " if groups > 1 else ""
    cin0 = f"v_g * {cin_g} + " if groups > 1 else ""

    def weight(i: str, k: str) -> str:
        return f"{wmat}[{chan0}{i}, {k}]"

    rows = max(1, min(oh, COL_BUDGET // (kk * ow)))
    col = w.alloc("conv2d_col", (-(-rows * ow // NR), kk, NR), acc_dt)
    sh, sw = strides
    dh, dw = dils
    bh, bw = begin
    for count, size, off in tile_pieces(oh, rows):
        d, piece = indent, list(outer)
        if count > 1:
            w.lines.append(f"{d}for rb in range({count}):")
            piece.append(("rb", count))
            d += _IND
        row0 = f"{off} + v_rb * {size}" if count > 1 else str(off)
        row0 = row0.removeprefix("0 + ")
        names = [v for v, _ in piece] + ["k", "r", "q"]
        block = block_name(w, "conv2d_im2col")
        w.lines.append(f"{d}for k, r, q in T.grid({kk}, {size}, {ow}):")
        w.lines.append(f"{d}{_IND}with T.sblock(\"{block}\"):")
        w.lines.append(f"{d}{_IND * 2}{', '.join('v_' + v for v in names)} = T.axis.remap(\"{'S' * len(names)}\", "
                       f"[{', '.join(names)}])")
        c_in = "v_k" if kh * kw == 1 else f"v_k // {kh * kw}"
        k_h = "0" if kh == 1 else f"v_k // {kw} % {kh}" if kw > 1 else "v_k % " + str(kh)
        k_w = "0" if kw == 1 else f"v_k % {kw}"
        y = affine(f"({row0} + v_r)" if row0 != "0" else "v_r", sh, k_h, dh, bh)
        xx = affine("v_q", sw, k_w, dw, bw)
        conds = []
        if bh > 0:
            conds.append(f"0 <= {y}")
        if (oh - 1) * sh + (kh - 1) * dh - bh >= height:
            conds.append(f"{y} < {height}")
        if bw > 0:
            conds.append(f"0 <= {xx}")
        if (ow - 1) * sw + (kw - 1) * dw - bw >= width:
            conds.append(f"{xx} < {width}")
        load = f"{x}[{n}, {cin0}{c_in}, {y}, {xx}]"
        load = load if acc_dt == dtype else f"T.Cast(\"{acc_dt}\", {load})"
        if conds:
            load = f"T.if_then_else({' and '.join(conds)}, {load}, {lit(0, acc_dt)})"
        w.lines.append(f"{d}{_IND * 2}{col}[(v_r * {ow} + v_q) // {NR}, v_k, (v_r * {ow} + v_q) % {NR}] = {load}")
        out_row = f"{row0} + ({{j}}) // {ow}" if row0 != "0" else f"({{j}}) // {ow}"
        emit_gemm(w, GemmSpec("conv2d_gemm", cout_g, size * ow, kk, weight, lambda k, j: f"{col}[({j}) // {NR}, {k}, ({j}) % {NR}]",
                              lambda i, j, out_row=out_row: f"{acc}[{n}, {chan0}{i}, {out_row.format(j=j)}, ({j}) % {ow}]",
                              b_panel=lambda k, panel, lane: f"{col}[{panel}, {k}, {lane}]", nr=NR, dtype=acc_dt),
                  piece, d)
