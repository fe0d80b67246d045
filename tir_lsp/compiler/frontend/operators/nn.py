"""Neural-network operators with reductions: convolution, dense / matmul, pooling, softmax.

Each writes its reduction into an intermediate buffer and returns the expression that reads
it (plus bias or scaling), so elementwise successors fuse into the same last stage.
"""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOATS, OpNode
from tir_lsp.compiler.frontend.operators.base import (
    COMPLEX,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    accum_dtype,
    affine,
    as_dtype,
    as_ints,
    at,
    axes_input_fold,
    broadcast,
    buffer_operand,
    cast_to,
    f32,
    index_const,
    index_zero,
    lit,
    lowest,
    same_dtype,
)
from tir_lsp.compiler.frontend.schedules.conv2d import conv2d_nchw
from tir_lsp.compiler.frontend.schedules.gemm import LANES, MR, GemmSpec, emit_dot, emit_gemm
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value

_NEG_INF = f32(float("-inf"))


def _ints(node: OpNode, key: str, n: int, default: int) -> list[int]:
    v = node.attrs.get(key)
    if v is None:
        return [default] * n
    if not isinstance(v, list) or not all(isinstance(x, int) for x in v):
        raise OpError(f"{key} must be a list of integers, got {v!r}", key)
    if len(v) != n:
        raise OpError(f"attribute {key} has {len(v)} values, expected {n}", key)
    return [int(x) for x in v]


def _window(node: OpNode, spatial: list[int], kernel: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(strides, dilations, pads at begin, output sizes) of a window operator over
    ``spatial``: explicit ``pads`` or ``auto_pad`` (SAME_UPPER / SAME_LOWER / VALID), and
    ``ceil_mode`` for pooling (a last, partial window when it starts inside the input or its
    begin pad, as onnxruntime counts it)."""
    n = len(spatial)
    strides = _ints(node, "strides", n, 1)
    dil = _ints(node, "dilations", n, 1)
    pads = _ints(node, "pads", 2 * n, 0)
    for key, values, least in (("strides", strides, 1), ("dilations", dil, 1), ("pads", pads, 0)):
        if min(values) < least:
            raise OpError(f"{key} {values} must be at least {least}", key)
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        raise OpError(f"auto_pad={auto} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER", "auto_pad")
    ceil = bool(node.attrs.get("ceil_mode", 0))
    out = []
    for d in range(n):
        eff = (kernel[d] - 1) * dil[d] + 1
        if auto == "VALID":
            pads[d] = pads[d + n] = 0
        elif auto in ("SAME_UPPER", "SAME_LOWER"):
            want = -(-spatial[d] // strides[d])
            total = max(0, (want - 1) * strides[d] + eff - spatial[d])
            small, big = total // 2, total - total // 2
            pads[d], pads[d + n] = (small, big) if auto == "SAME_UPPER" else (big, small)
        span = spatial[d] + pads[d] + pads[d + n] - eff
        if span < 0:
            raise OpError(f"window {kernel} (dilations {dil}, pads {pads}) does not fit the input {spatial}",
                          "kernel_shape")
        size = span // strides[d] + 1
        if ceil and span % strides[d]:
            size += 1
            if (size - 1) * strides[d] >= spatial[d] + pads[d]:
                size -= 1  # the last window would start in the end pad
        out.append(size)
    return strides, dil, pads[:n], out


def _in_bounds(coords: list[Value], spatial: list[int], kernel: list[int], strides: list[int], dil: list[int],
               begin: list[int], out: list[int]) -> list[Value]:
    """The conditions that ``coords`` (input positions of one window element) lie inside the
    input, checking each side a window can cross: below 0 when there is a begin pad, at or
    past the end when the last window reaches beyond the input (an end pad, or ceil_mode).
    None when no window leaves the input."""
    terms = []
    for c, size, k, s, d, b, o in zip(coords, spatial, kernel, strides, dil, begin, out):
        if b > 0:
            terms.append(ir.le(0, c))
        if (o - 1) * s + (k - 1) * d - b >= size:
            terms.append(c < size)
    return terms


def _leaves_input(spatial: list[int], kernel: list[int], strides: list[int], dil: list[int], begin: list[int],
                  out: list[int]) -> bool:
    """Whether some window reaches outside the input (``_in_bounds`` has a condition)."""
    return any(b > 0 or (o - 1) * s + (k - 1) * d - b >= size
               for size, k, s, d, b, o in zip(spatial, kernel, strides, dil, begin, out))


def _converted(w: StageWriter, op: Operand, dtype: str, base: str) -> Operand:
    """``op`` converted once into a workspace buffer of ``dtype``, or ``op`` when it has
    it: float16 operands of the GEMMs and convolutions, which converting at each load of the
    inner loop made 7-10x slower than float32 (measured)."""
    if op.dtype == dtype:
        return op
    buf = w.alloc(base, op.shape, dtype)
    w.stage(buf.name, list(op.shape), "S" * len(op.shape), lambda v: Value(ir.cast(dtype, op.load(v))),
            lambda v: at(buf, v))
    return buffer_operand(buf)


def _spatial(shape: tuple[int, ...]) -> list[int]:
    if len(shape) < 3:
        raise OpError(f"input of shape {shape} has no spatial dimensions (expected N, C, D1, ...)")
    return list(shape[2:])


# ---- Conv --------------------------------------------------------------------------------

def _conv_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x, w = shapes[0], shapes[1]
    spatial = _spatial(x)
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    if len(w) != len(x):
        raise OpError(f"weight shape {w} does not have the input's rank {len(x)} (out channels, in channels, kernel)")
    if groups < 1 or x[1] != w[1] * groups or w[0] % groups:
        raise OpError(f"weight shape {w} does not match input {x} with group={groups}", "group")
    kernel = _ints(node, "kernel_shape", len(spatial), 0) if node.attrs.get("kernel_shape") else list(w[2:])
    if kernel != list(w[2:]):
        raise OpError(f"kernel_shape {kernel} differs from the weight's {w[2:]}", "kernel_shape")
    if len(shapes) > 2 and shapes[2] != (w[0],):
        raise OpError(f"bias of shape {shapes[2]} needs shape ({w[0]},)")
    _, _, _, out = _window(node, spatial, kernel)
    return (x[0], w[0], *out)


def _conv(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x, wt = ins[0], ins[1]
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    spatial, kernel = list(x.shape[2:]), list(wt.shape[2:])
    strides, dils, begin, outs = _window(node, spatial, kernel)
    cin_g, cout_g = wt.shape[1], wt.shape[0] // groups
    nd = len(spatial)
    dt, acc_dt = x.dtype, accum_dtype(x.dtype)
    acc = w.alloc("conv2d_nchw" if nd == 2 else f"conv{nd}d_ncw" if nd == 1 else f"conv{nd}d_ncdhw", out_shape, acc_dt)
    depthwise = groups > 1 and cin_g == 1
    wt = _converted(w, wt, acc_dt, "weight_wide")
    if nd == 2 and not depthwise and x.buffer is not None and wt.buffer is not None:
        # The schedule: im2col (or the input itself for a 1x1) times the weights as a
        # register-blocked GEMM, per image and group (schedules/conv2d.py).
        conv2d_nchw(w, x.buffer, wt.buffer, acc, strides, dils, begin, groups, dt)
        if len(ins) > 2:
            w.tile_outputs[acc.name] = "bias"
        return _conv_bias(acc, ins)

    # Loop order n, f, c, kernel taps, then the output positions innermost: each weight is
    # read once per output row and the inner loop walks the output (and, at stride 1, the
    # input) contiguously. The reduction is zeroed by its own stage first.
    # A padded input is copied once into ``pad_temp`` (in the workspace, live during this
    # operator only; the copy's reads are guarded on every side a window crosses), so the
    # convolution's inner loop has no bounds checks and the compiler can vectorise it. The
    # copy also converts a float16 input to float32 once.
    guard = _leaves_input(spatial, kernel, strides, dils, begin, outs)
    src, offs = x, begin
    if guard or dt != acc_dt:
        padded = [max(size, (o - 1) * s + (k - 1) * d + 1) for size, o, s, k, d in zip(spatial, outs, strides, kernel, dils)]
        padded = [max(p, size + b) for p, size, b in zip(padded, spatial, begin)]
        pad = w.alloc("pad_temp", (x.shape[0], x.shape[1], *padded), acc_dt)
        wide = as_dtype(x, acc_dt)

        def pad_body(v: Index) -> Value:
            coords = [_val(p) - b if b else _val(p) for p, b in zip(v[2:], begin)]
            conds: list[Value] = []
            for c, b, size, full in zip(coords, begin, spatial, padded):
                if b:
                    conds.append(ir.le(0, c))
                if full - b > size:
                    conds.append(c < size)
            load = wide.load([v[0], v[1], *coords])
            return ir.if_then_else(ir.logical_and(*conds), load, lit(0, acc_dt)) if conds else load

        w.stage(pad.name, [x.shape[0], x.shape[1], *padded], "S" * (2 + nd), pad_body, lambda v: at(pad, v))
        src, offs = buffer_operand(pad), [0] * nd

    def body(v: Index) -> Value:
        n, f, rc = v[0], _val(v[1]), _val(v[2])
        red, pos = [_val(r) for r in v[3:3 + nd]], [_val(p) for p in v[3 + nd:]]
        chan = rc if groups == 1 else f // cout_g * cin_g + rc
        coords = [affine(p, s, r, d, b) for p, s, r, d, b in zip(pos, strides, red, dils, offs)]
        return at(acc, [n, f, *pos]) + src.load([n, chan, *coords]) * wt.load([f, rc, *red])

    w.stage(f"{acc.name}_init", list(out_shape), "S" * (2 + nd), lambda v: lit(0, acc_dt), lambda v: at(acc, v))
    if depthwise and nd == 2:
        # One channel per group: per output row, the taps outside and the row's pixels
        # innermost (contiguous at stride 1), no GEMM to form.
        def dw_body(v: Index) -> Value:
            return body([v[0], v[1], v[3], v[4], v[5], v[2], v[6]])

        w.stage("conv2d_depthwise_nchw", [*out_shape[:3], cin_g, *kernel, out_shape[3]], "SSSRRRS", dw_body,
                lambda v: at(acc, [v[0], v[1], v[2], v[6]]))
    else:
        w.stage(acc.name, [*out_shape[:2], cin_g, *kernel, *out_shape[2:]], "SSR" + "R" * nd + "S" * nd, body,
                lambda v: at(acc, [v[0], v[1], *v[3 + nd:]]))
    return _conv_bias(acc, ins)


def _val(i: ir.ExprLike) -> Value:
    return i if isinstance(i, Value) else Value(ir.expr(i))


def _conv_bias(acc: Buffer, ins: list[Operand]) -> Expr:
    """The convolution's final expression: the accumulator plus the bias, if any (added in
    the accumulation dtype, then rounded once to the input's)."""
    dt, acc_dt = ins[0].dtype, accum_dtype(ins[0].dtype)
    if len(ins) > 2:
        bias = as_dtype(ins[2], acc_dt)
        return cast_to(dt, lambda idx: at(acc, idx) + bias.load([idx[1]]), acc_dt)
    return cast_to(dt, lambda idx: at(acc, idx), acc_dt)


# ---- Gemm / MatMul ------------------------------------------------------------------------

def _gemm_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    a, b = shapes[0], shapes[1]
    if len(a) != 2 or len(b) != 2:
        raise OpError(f"Gemm needs 2-D inputs, got {a} and {b}")
    m, k = (a[1], a[0]) if node.attrs.get("transA", 0) else a
    k2, n = (b[1], b[0]) if node.attrs.get("transB", 0) else b
    if k != k2:
        raise OpError(f"inner dimensions differ: {a} and {b}")
    if len(shapes) > 2:
        from tir_lsp.compiler.frontend.operators.base import broadcast_shape

        if broadcast_shape(shapes[2], (m, n)) != (m, n):
            raise OpError(f"C of shape {shapes[2]} does not broadcast to ({m}, {n})")
    return (m, n)


def _scale(value: float, dtype: str, key: str) -> Value:
    """Gemm's ``alpha`` / ``beta`` as a literal of ``dtype`` (a whole number for integers)."""
    if dtype not in FLOATS and value != int(value):
        raise OpError(f"{value} is not a whole number, as {dtype} inputs need", key)
    return lit(value, dtype)


_GEMM_TYPES = same_dtype((*FLOATS, "int32", "int64", "uint32", "uint64"))


def _gemm_dtype(node: OpNode, dtypes: list[str | None]) -> str:
    """Gemm's inputs share one dtype; for integers ``alpha`` (and ``beta`` with C) are whole
    numbers."""
    dt = _GEMM_TYPES(node, dtypes)
    for key in ("alpha", "beta") if len(dtypes) > 2 and dtypes[2] else ("alpha",):
        _scale(float(node.attrs.get(key, 1.0)), dt, key)  # type: ignore[arg-type]
    return dt


def _gemm(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt, acc_dt = ins[0].dtype, accum_dtype(ins[0].dtype)
    a, b = _converted(w, ins[0], acc_dt, "a_wide"), _converted(w, ins[1], acc_dt, "b_wide")
    ta, tb = bool(node.attrs.get("transA", 0)), bool(node.attrs.get("transB", 0))
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))  # type: ignore[arg-type]
    k = a.shape[0] if ta else a.shape[1]
    acc = w.alloc("T_matmul_NT" if tb else "T_matmul", out_shape, acc_dt)
    spec = GemmSpec("dense", out_shape[0], out_shape[1], k, lambda i, r: a.load([r, i] if ta else [i, r]),
                    lambda r, j: b.load([j, r] if tb else [r, j]), lambda i, j: at(acc, [i, j]), dtype=acc_dt)
    if tb and not ta and out_shape[0] < MR and k >= LANES:
        emit_dot(w, spec)  # a few rows times N x K weights: dot products along contiguous rows
    else:
        emit_gemm(w, spec, [])
    if len(ins) > 2 and beta != 0.0:
        w.tile_outputs[acc.name] = "bias"

    def final(idx: Index) -> Value:
        out = at(acc, [idx[0], idx[1]])
        if alpha != 1.0:
            out = out * _scale(alpha, acc_dt, "alpha")
        if len(ins) > 2 and beta != 0.0:
            c = as_dtype(ins[2], acc_dt).load(broadcast(idx, ins[2].shape, out_shape))
            out = out + c if beta == 1.0 else out + c * _scale(beta, acc_dt, "beta")
        return out

    return cast_to(dt, final, acc_dt)


def _matmul_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    a, b = shapes
    if len(a) < 2 or len(b) < 2:
        raise OpError(f"MatMul of 1-D inputs is not supported: {a} and {b}")
    if a[-1] != b[-2]:
        raise OpError(f"inner dimensions differ: {a} and {b}")
    if len(b) != 2 and b[:-2] != a[:-2]:
        raise OpError(f"batch dimensions must match (or B be 2-D): {a} and {b}")
    return (*a[:-1], b[-1])


def _matmul(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt, acc_dt = ins[0].dtype, accum_dtype(ins[0].dtype)
    a, b = _converted(w, ins[0], acc_dt, "a_wide"), _converted(w, ins[1], acc_dt, "b_wide")
    k = a.shape[-1]
    acc = w.alloc("T_matmul", out_shape, acc_dt)
    # Batch dimensions are loops around the GEMM, bound by its blocks as v_b<d>.
    with ExitStack() as loops:
        batch = [(f"b{d}", loops.enter_context(w.loop(f"b{d}", e)), e) for d, e in enumerate(out_shape[:-2])]
        spec = GemmSpec("matmul_gemm", out_shape[-2], out_shape[-1], k,
                        lambda i, r: a.load([*spec.outer, i, r]),
                        lambda r, j: b.load([r, j] if len(b.shape) == 2 else [*spec.outer, r, j]),
                        lambda i, j: at(acc, [*spec.outer, i, j]), dtype=acc_dt)
        emit_gemm(w, spec, batch)
    return cast_to(dt, lambda idx: at(acc, idx), acc_dt)


# ---- Pooling ------------------------------------------------------------------------------

def _pool_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    spatial = _spatial(x)
    if not node.attrs.get("kernel_shape"):
        raise OpError("kernel_shape is required", "kernel_shape")
    if node.attrs.get("storage_order", 0):
        raise OpError("storage_order=1 is not supported", "storage_order")
    kernel = _ints(node, "kernel_shape", len(spatial), 0)
    _, _, _, out = _window(node, spatial, kernel)
    return (x[0], x[1], *out)


def _pool(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        dt = ins[0].dtype
        acc_dt = dt if kind == "max" else accum_dtype(dt)  # a max is exact in any dtype
        x = as_dtype(ins[0], acc_dt)
        spatial = list(x.shape[2:])
        nd = len(spatial)
        kernel = _ints(node, "kernel_shape", nd, 0)
        strides, dils, begin, outs = _window(node, spatial, kernel)
        guarded = _leaves_input(spatial, kernel, strides, dils, begin, outs)
        acc = w.alloc("pool_max" if kind == "max" else "pool_sum", out_shape, acc_dt)
        start = lowest(acc_dt) if kind == "max" else lit(0, acc_dt)

        def body(v: Index) -> Value:
            pos, red = [_val(p) for p in v[2:2 + nd]], [_val(r) for r in v[2 + nd:]]
            coords = [affine(p, s, r, d, b) for p, s, r, d, b in zip(pos, strides, red, dils, begin)]
            load = x.load([v[0], v[1], *coords])
            cond = _in_bounds(coords, spatial, kernel, strides, dils, begin, outs)
            if cond:
                load = ir.if_then_else(ir.logical_and(*cond), load, start)
            cur = at(acc, v[:2 + nd])
            return ir.max_of(cur, load) if kind == "max" else cur + load

        w.stage(acc.name, [*out_shape, *kernel], "S" * (2 + nd) + "R" * nd, body,
                lambda v: at(acc, v[:2 + nd]), init=start)
        if kind == "max":
            return lambda idx: at(acc, idx)
        count = int(np.prod(kernel))
        if not guarded:
            return cast_to(dt, lambda idx: at(acc, idx) / lit(count, acc_dt), acc_dt)
        include_pad = bool(node.attrs.get("count_include_pad", 0))

        def avg(idx: Index) -> Value:
            # Divide by the number of window elements inside the input, or inside the input
            # and its pads (count_include_pad=1; ceil_mode's overhang never counts).
            factors = []
            for dim, (p, s, k, d, b, size) in enumerate(zip(idx[2:], strides, kernel, dils, begin, spatial)):
                lo = _val(p) * s - b
                pad_lo, pad_hi = (-b, size + _end_pad(node, spatial, dim)) if include_pad else (0, size)
                if d == 1:
                    factors.append(ir.min_of(lo + k, pad_hi) - ir.max_of(lo, pad_lo))
                else:  # window taps r in [0, k) with pad_lo <= lo + r * d < pad_hi
                    factors.append(ir.min_of(k - 1, (index_const(pad_hi) - 1 - lo) // d)
                                   - ir.max_of(0, (pad_lo - lo + (d - 1)) // d) + 1)
            product = factors[0]
            for f in factors[1:]:
                product = product * f
            return at(acc, idx) / Value(ir.cast(acc_dt, product))

        return cast_to(dt, avg, acc_dt)

    return compute


def _end_pad(node: OpNode, spatial: list[int], d: int) -> int:
    """The end pad of dimension ``d`` (explicit or from auto_pad)."""
    n = len(spatial)
    kernel = _ints(node, "kernel_shape", n, 0)
    strides = _ints(node, "strides", n, 1)
    dil = _ints(node, "dilations", n, 1)
    auto = node.attrs.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        eff = (kernel[d] - 1) * dil[d] + 1
        want = -(-spatial[d] // strides[d])
        total = max(0, (want - 1) * strides[d] + eff - spatial[d])
        return total - total // 2 if auto == "SAME_UPPER" else total // 2
    if auto == "VALID":
        return 0
    return _ints(node, "pads", 2 * n, 0)[d + n]


def _gap_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    if len(x) < 3:
        raise OpError(f"input of shape {x} has no spatial dimensions")
    return (*x[:2], *([1] * (len(x) - 2)))


def _gap(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt, acc_dt = ins[0].dtype, accum_dtype(ins[0].dtype)
    x = as_dtype(ins[0], acc_dt)
    spatial = list(x.shape[2:])
    count = int(np.prod(spatial))
    acc = w.alloc("x_red", x.shape[:2], acc_dt)
    nsp = len(spatial)

    def body(v: Index) -> Value:
        return at(acc, [v[0], v[1]]) + x.load(v)

    w.stage("x_red", [*x.shape[:2], *spatial], "SS" + "R" * nsp, body, lambda v: at(acc, [v[0], v[1]]),
            init=lit(0, acc_dt))
    return cast_to(dt, lambda idx: at(acc, [idx[0], idx[1]]) / lit(count, acc_dt), acc_dt)


# ---- InstanceNormalization ----------------------------------------------------------------

def _instance_norm_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    if len(x) < 3:
        raise OpError(f"input of shape {x} has no spatial dimensions")
    for k, name in ((1, "scale"), (2, "B")):
        if tuple(shapes[k]) != (x[1],):
            raise OpError(f"{name} has shape {tuple(shapes[k])}; expected ({x[1]},), one value per channel")
    return x


def _instance_norm(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """``scale[c] * (x - mean) / sqrt(var + epsilon) + B[c]``, mean and (biased) variance over
    the spatial dims of each (n, c), accumulated in float32 (float64 for float64): two
    reductions, the variance of the centred values (no cancellation of E[x^2] - E[x]^2)."""
    dt, acc_dt = ins[0].dtype, accum_dtype(ins[0].dtype)
    x, scale, bias = (as_dtype(op, acc_dt) for op in ins)
    spatial = list(out_shape[2:])
    count = lit(int(np.prod(spatial)), acc_dt)
    eps = lit(float(node.attrs.get("epsilon", 1e-5)), acc_dt)  # type: ignore[arg-type]  # attribute values are typed object
    nc, kinds = list(out_shape[:2]), "SS" + "R" * len(spatial)
    total = w.alloc("x_sum", tuple(nc), acc_dt)
    squares = w.alloc("x_var", tuple(nc), acc_dt)

    def mean(v: Index) -> Value:
        return at(total, [v[0], v[1]]) / count

    w.stage(total.name, [*nc, *spatial], kinds, lambda v: at(total, [v[0], v[1]]) + x.load(v),
            lambda v: at(total, [v[0], v[1]]), init=lit(0, acc_dt))

    def centred_square(v: Index) -> Value:
        d = x.load(v) - mean(v)
        return at(squares, [v[0], v[1]]) + d * d

    w.stage(squares.name, [*nc, *spatial], kinds, centred_square, lambda v: at(squares, [v[0], v[1]]),
            init=lit(0, acc_dt))

    def final(idx: Index) -> Value:
        norm = (x.load(idx) - mean(idx)) / ir.builtin("sqrt", at(squares, [idx[0], idx[1]]) / count + eps)
        return scale.load([idx[1]]) * norm + bias.load([idx[1]])

    return cast_to(dt, final, acc_dt)


# ---- Softmax ------------------------------------------------------------------------------

def _softmax_axes(node: OpNode, rank: int) -> list[int]:
    """The axes one softmax normalizes over: the one ``axis`` from opset 13; before it the
    input is coerced to 2-D at ``axis``, so every axis from ``axis`` on."""
    axis = int(node.attrs.get("axis", -1 if int(node.attrs.get("__opset", 13)) >= 13 else 1))  # type: ignore[call-overload]
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise OpError(f"axis {axis} is out of range for rank {rank}", "axis")
    if int(node.attrs.get("__opset", 13)) < 13:  # type: ignore[call-overload]
        return list(range(axis, rank))
    return [axis]


def _softmax_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    _softmax_axes(node, len(shapes[0]))
    return shapes[0]


def _softmax(log: bool) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        x = ins[0]
        rank = len(out_shape)
        axes = _softmax_axes(node, rank)
        keep = [i for i in range(rank) if i not in axes]
        red_shape = tuple(out_shape[i] for i in keep) or (1,)
        mx = w.alloc("T_softmax_maxelem", red_shape)
        sm = w.alloc("T_softmax_expsum", red_shape)
        order = keep + axes
        extents = [out_shape[i] for i in order]
        nk = len(keep)

        def full(v: Index) -> Index:
            idx: list[ir.ExprLike] = [0] * rank
            for pos, dim in enumerate(order):
                idx[dim] = v[pos]
            return idx

        def red(v: Index) -> Index:
            return v[:nk] or [index_zero()]

        kinds = "S" * nk + "R" * len(axes)
        w.stage("T_softmax_maxelem", extents, kinds, lambda v: ir.max_of(at(mx, red(v)), x.load(full(v))),
                lambda v: at(mx, red(v)), init=_NEG_INF)
        w.stage("T_softmax_expsum", extents, kinds,
                lambda v: at(sm, red(v)) + ir.builtin("exp", x.load(full(v)) - at(mx, red(v))),
                lambda v: at(sm, red(v)), init=f32(0.0))

        def final(idx: Index) -> Value:
            r = [idx[d] for d in keep] or [index_zero()]
            if log:
                return x.load(idx) - at(mx, r) - ir.builtin("log", at(sm, r))
            return ir.builtin("exp", x.load(idx) - at(mx, r)) / at(sm, r)

        return final

    return compute


# ---- LRN ----------------------------------------------------------------------------------

def _lrn_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    _spatial(shapes[0])
    size = node.attrs.get("size")
    if not isinstance(size, int) or size < 1:
        raise OpError(f"size must be a positive integer, got {size!r}", "size")
    return shapes[0]


def _lrn(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """``x / (bias + alpha / size * sum of x^2 over a channel window) ^ beta``; the window
    [c - (size-1)//2, c + ceil((size-1)/2)] is guarded at both channel ends."""
    x = ins[0]
    size = int(node.attrs["size"])  # type: ignore[call-overload]
    alpha, beta = float(node.attrs.get("alpha", 1e-4)), float(node.attrs.get("beta", 0.75))  # type: ignore[arg-type]
    bias = float(node.attrs.get("bias", 1.0))  # type: ignore[arg-type]
    lo = (size - 1) // 2
    channels = out_shape[1]
    rank = len(out_shape)
    sq = w.alloc("tensor_sqsum", out_shape)

    def body(v: Index) -> Value:
        c = _val(v[1]) + v[rank] - lo if lo else _val(v[1]) + v[rank]
        load = x.load([v[0], c, *v[2:rank]])
        inside = ir.logical_and(ir.le(0, c), c < channels)
        return at(sq, v[:rank]) + ir.if_then_else(inside, load * load, f32(0.0))

    w.stage(sq.name, [*out_shape, size], "S" * rank + "R", body, lambda v: at(sq, v[:rank]), init=f32(0.0))

    def final(idx: Index) -> Value:
        base = f32(bias) + f32(alpha / size) * at(sq, idx)
        return x.load(idx) / ir.builtin("pow", base, f32(beta))

    return final


# ---- ConvTranspose ------------------------------------------------------------------------

def _deconv_geometry(node: OpNode, x: tuple[int, ...], w: tuple[int, ...]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(strides, dilations, begin pads, output sizes) of a transposed convolution."""
    spatial = _spatial(x)
    n = len(spatial)
    kernel = list(w[2:])
    strides = _ints(node, "strides", n, 1)
    dil = _ints(node, "dilations", n, 1)
    out_pad = _ints(node, "output_padding", n, 0)
    pads = _ints(node, "pads", 2 * n, 0)
    auto = node.attrs.get("auto_pad", "NOTSET")
    want = node.attrs.get("output_shape")
    full = [s * (i - 1) + op + (k - 1) * d + 1 for i, s, op, k, d in zip(spatial, strides, out_pad, kernel, dil)]
    if want is not None:
        target = as_ints(want)[-n:]
        total = [f - t for f, t in zip(full, target)]
        if min(total) < 0:
            raise OpError(f"output_shape {target} is larger than the convolution covers", "output_shape")
        upper = auto != "SAME_LOWER"
        begin = [t // 2 if upper else t - t // 2 for t in total]
        return strides, dil, begin, target
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        target = [i * s for i, s in zip(spatial, strides)]
        total = [f - t for f, t in zip(full, target)]
        begin = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in total]
        return strides, dil, begin, target
    if auto == "VALID":
        pads = [0] * (2 * n)
    out = [f - pads[d] - pads[d + n] for d, f in enumerate(full)]
    if min(out) <= 0:
        raise OpError(f"pads {pads} leave no output", "pads")
    return strides, dil, pads[:n], out


def _deconv_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x, w = shapes[0], shapes[1]
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    if len(w) != len(x) or groups < 1 or x[1] != w[0] or w[0] % groups:
        raise OpError(f"weight shape {w} does not match input {x} with group={groups}", "group")
    if node.attrs.get("kernel_shape") and list(node.attrs["kernel_shape"]) != list(w[2:]):  # type: ignore[call-overload]
        raise OpError(f"kernel_shape differs from the weight's {w[2:]}", "kernel_shape")
    cout = w[1] * groups
    if len(shapes) > 2 and shapes[2] != (cout,):
        raise OpError(f"bias of shape {shapes[2]} needs shape ({cout},)")
    _, _, _, out = _deconv_geometry(node, x, w)
    return (x[0], cout, *out)


def _deconv(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """``y[n, f, o] = sum over c, k of x[n, c, i] * w[c, f, k]`` where ``o = i * s + k * d -
    pad``: i = (o + pad - k * d) / s when that divides exactly and lies inside the input."""
    x, wt = ins[0], ins[1]
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    strides, dils, begin, _ = _deconv_geometry(node, x.shape, wt.shape)
    spatial, kernel = list(x.shape[2:]), list(wt.shape[2:])
    nd = len(spatial)
    cin_g, cout_g = wt.shape[0] // groups, wt.shape[1]
    acc = w.alloc("conv2d_transpose_nchw", out_shape)

    def body(v: Index) -> Value:
        n, f, rc = v[0], _val(v[1]), _val(v[2 + nd])
        pos, red = [_val(p) for p in v[2:2 + nd]], [_val(r) for r in v[3 + nd:]]
        chan = rc if groups == 1 else f // cout_g * cin_g + rc
        conds: list[Value] = []
        coords: list[Value] = []
        for p, r, s, d, b, size in zip(pos, red, strides, dils, begin, spatial):
            num = p + b - r * d if b else p - r * d
            conds.append(ir.le(0, num))
            if s > 1:
                conds.append(ir.eq(num % s, 0))
                coords.append(num // s)
            else:
                coords.append(num)
            conds.append(coords[-1] < size)
        load = ir.if_then_else(ir.logical_and(*conds), x.load([n, chan, *coords]), f32(0.0))
        wf = f if groups == 1 else f % cout_g
        return at(acc, v[:2 + nd]) + load * wt.load([chan, wf, *red])

    w.stage(acc.name, [*out_shape, cin_g, *kernel], "S" * (2 + nd) + "R" * (1 + nd), body,
            lambda v: at(acc, v[:2 + nd]), init=f32(0.0))
    if len(ins) > 2:
        bias = ins[2]
        return lambda idx: at(acc, idx) + bias.load([idx[1]])
    return lambda idx: at(acc, idx)


# ---- Reductions ---------------------------------------------------------------------------

def _reduce_axes(node: OpNode, rank: int, consts: dict[int, np.ndarray]) -> list[int]:
    axes = node.attrs.get("axes")
    if 1 in consts:
        axes = [int(a) for a in consts[1].reshape(-1)]
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            raise OpError("noop_with_empty_axes=1 is not supported", "noop_with_empty_axes")
        return list(range(rank))
    out = sorted({a + rank if a < 0 else a for a in as_ints(axes)})
    if out[0] < 0 or out[-1] >= rank:
        raise OpError(f"axes {axes} are out of range for rank {rank}", "axes")
    return out


def _reduce_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axes = _reduce_axes(node, len(x), consts)
    keep = int(node.attrs.get("keepdims", 1))  # type: ignore[call-overload]
    out = tuple(1 if i in axes else d for i, d in enumerate(x)) if keep else tuple(d for i, d in enumerate(x) if i not in axes)
    return out or (1,)


def _reduce(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        x = ins[0]
        rank = len(x.shape)
        axes = _reduce_axes(node, rank, {})
        keep = [i for i in range(rank) if i not in axes]
        red_shape = tuple(x.shape[i] for i in keep) or (1,)
        # Integers and float64 accumulate in their own dtype, 16-bit floats in float32 (as onnxruntime).
        dt = accum_dtype(x.dtype)
        acc = w.alloc({"max": "x_red_max", "min": "x_red_min"}.get(kind, "x_red"), red_shape, dt)
        order = keep + axes
        nk = len(keep)

        def full(v: Index) -> Index:
            idx: list[ir.ExprLike] = [0] * rank
            for pos, dim in enumerate(order):
                idx[dim] = v[pos]
            return idx

        def target(v: Index) -> Value:
            return at(acc, v[:nk] or [index_zero()])

        def step(a: Value, v: Value) -> Value:
            v = v if dt == x.dtype else Value(ir.cast(dt, v))
            if kind in ("max", "min"):
                return ir.builtin(kind, a, v)
            if kind == "prod":
                return a * v
            if kind == "sumsquare":
                return a + v * v
            return a + ir.builtin("fabs", v) if kind == "l1" else a + v

        big = float("inf") if dt.startswith("float") else np.iinfo(dt).max
        low = float("-inf") if dt.startswith("float") else np.iinfo(dt).min
        init = lit({"max": low, "min": big, "prod": 1}.get(kind, 0), dt)
        w.stage(acc.name, [x.shape[i] for i in order], "S" * nk + "R" * len(axes),
                lambda v: step(target(v), x.load(full(v))), target, init=init)
        count = int(np.prod([x.shape[i] for i in axes]))
        keepdims = int(node.attrs.get("keepdims", 1))  # type: ignore[call-overload]

        def final(idx: Index) -> Value:
            kept = [idx[i] for i in keep] if keepdims else list(idx[:nk])
            out = at(acc, kept or [index_zero()])
            if kind == "mean":  # integers: truncated, as onnxruntime
                out = out / lit(count, dt) if dt in FLOATS else ir.builtin("truncdiv", out, lit(count, dt))
            return out if dt == x.dtype else Value(ir.cast(x.dtype, out))

        return final

    return compute



def _global_max(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    acc = w.alloc("x_red_max", x.shape[:2], x.dtype)
    nsp = len(x.shape) - 2
    w.stage("x_red_max", list(x.shape), "SS" + "R" * nsp, lambda v: ir.max_of(at(acc, [v[0], v[1]]), x.load(v)),
            lambda v: at(acc, [v[0], v[1]]), init=lowest(x.dtype))
    return lambda idx: at(acc, [idx[0], idx[1]])


_CONV_ATTRS: dict[str, object] = {"auto_pad": "NOTSET", "dilations": None, "group": 1, "kernel_shape": None, "pads": None, "strides": None}
_POOL_ATTRS: dict[str, object] = {"auto_pad": "NOTSET", "ceil_mode": 0, "dilations": None, "kernel_shape": None, "pads": None,
               "storage_order": 0, "strides": None}

_RED_ATTRS: dict[str, object] = {"axes": None, "keepdims": 1, "noop_with_empty_axes": 0}
# Reductions on floats; the sum, mean, product, max and min also on 32- and 64-bit integers.
_RED_FLOAT = same_dtype(FLOATS)
_FLOATS = _RED_FLOAT  # Conv and the pools but MaxPool
_RED_INT = same_dtype((*FLOATS, "int32", "int64", "uint32", "uint64"))

OPS = [
    OpDef("Conv", "nn_conv2d", COMPLEX, _CONV_ATTRS, 2, 3, _conv_shape, _conv, dtypes=_FLOATS),
    OpDef("ConvTranspose", "nn_conv2d_transpose", COMPLEX, {**_CONV_ATTRS, "output_padding": None, "output_shape": None},
          2, 3, _deconv_shape, _deconv),
    OpDef("Gemm", "nn_dense", COMPLEX, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0, "broadcast": 0}, 2, 3,
          _gemm_shape, _gemm, dtypes=_gemm_dtype),
    OpDef("MatMul", "nn_matmul", COMPLEX, {}, 2, 2, _matmul_shape, _matmul, dtypes=_GEMM_TYPES),
    OpDef("MaxPool", "nn_max_pool2d", COMPLEX, _POOL_ATTRS, 1, 1, _pool_shape, _pool("max"),  # type: ignore[arg-type]
          dtypes=same_dtype((*FLOATS, "int8", "uint8"))),
    OpDef("AveragePool", "nn_avg_pool2d", COMPLEX, {**_POOL_ATTRS, "count_include_pad": 0}, 1, 1,
          _pool_shape, _pool("avg"), dtypes=_FLOATS),  # type: ignore[arg-type]
    OpDef("GlobalAveragePool", "nn_global_avg_pool2d", COMPLEX, {}, 1, 1, _gap_shape, _gap, dtypes=_FLOATS),
    OpDef("GlobalMaxPool", "nn_global_max_pool2d", COMPLEX, {}, 1, 1, _gap_shape, _global_max, dtypes=_FLOATS),
    OpDef("InstanceNormalization", "nn_instance_norm", COMPLEX, {"epsilon": 1e-5}, 3, 3, _instance_norm_shape,
          _instance_norm, dtypes=_FLOATS),
    OpDef("Softmax", "nn_softmax", COMPLEX, {"axis": None}, 1, 1, _softmax_shape, _softmax(False)),  # type: ignore[arg-type]
    OpDef("LogSoftmax", "nn_log_softmax", COMPLEX, {"axis": None}, 1, 1, _softmax_shape, _softmax(True)),  # type: ignore[arg-type]
    OpDef("LRN", "nn_lrn", COMPLEX, {"alpha": 1e-4, "beta": 0.75, "bias": 1.0, "size": None}, 1, 1, _lrn_shape, _lrn),
    OpDef("ReduceSum", "sum", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("sum"), fold=axes_input_fold, dtypes=_RED_INT),  # type: ignore[arg-type]
    OpDef("ReduceMean", "mean", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("mean"), fold=axes_input_fold, dtypes=_RED_INT),  # type: ignore[arg-type]
    OpDef("ReduceMax", "max", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("max"), fold=axes_input_fold, dtypes=_RED_INT),  # type: ignore[arg-type]
    OpDef("ReduceMin", "min", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("min"), fold=axes_input_fold, dtypes=_RED_INT),  # type: ignore[arg-type]
    OpDef("ReduceProd", "prod", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("prod"), fold=axes_input_fold, dtypes=_RED_INT),  # type: ignore[arg-type]
    OpDef("ReduceSumSquare", "sum", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("sumsquare"),  # type: ignore[arg-type]
          fold=axes_input_fold, dtypes=_RED_FLOAT),
    OpDef("ReduceL1", "sum", COMPLEX, _RED_ATTRS, 1, 2, _reduce_shape, _reduce("l1"), fold=axes_input_fold, dtypes=_RED_FLOAT),  # type: ignore[arg-type]
]
