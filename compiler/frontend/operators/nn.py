"""Neural-network operators with reductions: convolution, dense / matmul, pooling, softmax.

Each writes its reduction into an intermediate buffer and returns the expression that reads
it (plus bias or scaling), so elementwise successors fuse into the same last stage.
"""

from __future__ import annotations

import numpy as np

from compiler.frontend.graph import OpNode
from compiler.frontend.operators.base import (
    COMPLEX,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    affine,
    broadcast,
    f32,
)

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


def _check_auto_pad(node: OpNode) -> None:
    pad = node.attrs.get("auto_pad", "NOTSET")
    if pad not in ("NOTSET", "VALID"):
        raise OpError(f"auto_pad={pad} is not supported (use explicit pads)", "auto_pad")
    if node.attrs.get("ceil_mode", 0):
        raise OpError("ceil_mode=1 is not supported", "ceil_mode")


def _window(node: OpNode, spatial: list[int], kernel: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    """(strides, dilations, pads at begin, output sizes) of a 2-D window operator."""
    n = len(spatial)
    strides = _ints(node, "strides", n, 1)
    dil = _ints(node, "dilations", n, 1)
    pads = _ints(node, "pads", 2 * n, 0)
    for key, values, least in (("strides", strides, 1), ("dilations", dil, 1), ("pads", pads, 0)):
        if min(values) < least:
            raise OpError(f"{key} {values} must be at least {least}", key)
    out = []
    for d in range(n):
        eff = (kernel[d] - 1) * dil[d] + 1
        size = (spatial[d] + pads[d] + pads[d + n] - eff) // strides[d] + 1
        if size <= 0:
            raise OpError(f"window {kernel} (dilations {dil}, pads {pads}) does not fit the input {spatial}",
                          "kernel_shape")
        out.append(size)
    return strides, dil, pads[:n], out


def _only_2d(shape: tuple[int, ...]) -> None:
    if len(shape) != 4:
        raise OpError(f"only 2-D (NCHW) inputs are supported, got shape {shape}")


# ---- Conv --------------------------------------------------------------------------------

def _conv_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    _check_auto_pad(node)
    x, w = shapes[0], shapes[1]
    _only_2d(x)
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    if len(w) != 4:
        raise OpError(f"weight shape {w} is not 4-D (out channels, in channels, kh, kw)")
    if groups < 1 or x[1] != w[1] * groups or w[0] % groups:
        raise OpError(f"weight shape {w} does not match input {x} with group={groups}", "group")
    kernel = _ints(node, "kernel_shape", 2, 0) if node.attrs.get("kernel_shape") else [w[2], w[3]]
    if kernel != [w[2], w[3]]:
        raise OpError(f"kernel_shape {kernel} differs from the weight's {w[2:]}", "kernel_shape")
    if len(shapes) > 2 and shapes[2] != (w[0],):
        raise OpError(f"bias of shape {shapes[2]} needs shape ({w[0]},)")
    _, _, _, out = _window(node, [x[2], x[3]], kernel)
    return (x[0], w[0], out[0], out[1])


def _conv(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x, wt = ins[0], ins[1]
    groups = int(node.attrs.get("group", 1))  # type: ignore[call-overload]
    (sh, sw), (dh, dw), (ph, pw), _ = _window(node, [x.shape[2], x.shape[3]], [wt.shape[2], wt.shape[3]])
    H, W = x.shape[2], x.shape[3]
    cin_g, cout_g = wt.shape[1], wt.shape[0] // groups
    acc = w.alloc("conv2d_nchw", out_shape)

    def body(v: Index) -> str:
        n, f, yy, xx, rc, ry, rx = v
        chan = rc if groups == 1 else f"{f} // {cout_g} * {cin_g} + {rc}"
        hy, wx = affine(yy, sh, ry, dh, ph), affine(xx, sw, rx, dw, pw)
        load = x.load([n, chan, hy, wx])
        if ph or pw:
            # Padding is a guarded read, not a padded copy: the workspace holds no pad buffer.
            cond = f"0 <= {hy} and {hy} < {H} and 0 <= {wx} and {wx} < {W}"
            load = f"T.if_then_else({cond}, {load}, {f32(0.0)})"
        return f"{acc}[{n}, {f}, {yy}, {xx}] + {load} * {wt.load([f, rc, ry, rx])}"

    w.stage("conv2d_nchw", [*out_shape, cin_g, wt.shape[2], wt.shape[3]], "SSSSRRR", body,
            lambda v: f"{acc}[{', '.join(v[:4])}]", init=f32(0.0))
    if len(ins) > 2:
        bias = ins[2]
        return lambda idx: f"{acc}[{', '.join(idx)}] + {bias.load([idx[1]])}"
    return lambda idx: f"{acc}[{', '.join(idx)}]"


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
        from compiler.frontend.operators.base import broadcast_shape

        if broadcast_shape(shapes[2], (m, n)) != (m, n):
            raise OpError(f"C of shape {shapes[2]} does not broadcast to ({m}, {n})")
    return (m, n)


def _gemm(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    a, b = ins[0], ins[1]
    ta, tb = bool(node.attrs.get("transA", 0)), bool(node.attrs.get("transB", 0))
    alpha, beta = float(node.attrs.get("alpha", 1.0)), float(node.attrs.get("beta", 1.0))  # type: ignore[arg-type]
    k = a.shape[0] if ta else a.shape[1]
    acc = w.alloc("T_matmul_NT" if tb else "T_matmul", out_shape)

    def body(v: Index) -> str:
        i, j, r = v
        la = a.load([r, i] if ta else [i, r])
        lb = b.load([j, r] if tb else [r, j])
        return f"{acc}[{i}, {j}] + {la} * {lb}"

    w.stage("T_matmul", [*out_shape, k], "SSR", body, lambda v: f"{acc}[{v[0]}, {v[1]}]", init=f32(0.0))

    def final(idx: Index) -> str:
        out = f"{acc}[{idx[0]}, {idx[1]}]"
        if alpha != 1.0:
            out = f"{out} * {f32(alpha)}"
        if len(ins) > 2 and beta != 0.0:
            c = ins[2].load(broadcast(idx, ins[2].shape, out_shape))
            out = f"{out} + {c}" if beta == 1.0 else f"{out} + {c} * {f32(beta)}"
        return out

    return final


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
    a, b = ins
    k = a.shape[-1]
    acc = w.alloc("T_matmul", out_shape)
    r = len(out_shape)

    def body(v: Index) -> str:
        outer, red = v[:r], v[r]
        lb = b.load([red, outer[-1]] if len(b.shape) == 2 else [*outer[:-2], red, outer[-1]])
        return f"{acc}[{', '.join(outer)}] + {a.load([*outer[:-1], red])} * {lb}"

    w.stage("T_matmul", [*out_shape, k], "S" * r + "R", body, lambda v: f"{acc}[{', '.join(v[:r])}]", init=f32(0.0))
    return lambda idx: f"{acc}[{', '.join(idx)}]"


# ---- Pooling ------------------------------------------------------------------------------

def _pool_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    _check_auto_pad(node)
    x = shapes[0]
    _only_2d(x)
    if not node.attrs.get("kernel_shape"):
        raise OpError("kernel_shape is required", "kernel_shape")
    if node.attrs.get("storage_order", 0):
        raise OpError("storage_order=1 is not supported", "storage_order")
    kernel = _ints(node, "kernel_shape", 2, 0)
    _, _, _, out = _window(node, [x[2], x[3]], kernel)
    return (x[0], x[1], out[0], out[1])


def _pool(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        x = ins[0]
        kh, kw = _ints(node, "kernel_shape", 2, 0)
        (sh, sw), (dh, dw), (ph, pw), _ = _window(node, [x.shape[2], x.shape[3]], [kh, kw])
        H, W = x.shape[2], x.shape[3]
        acc = w.alloc("pool_max" if kind == "max" else "pool_sum", out_shape)

        def body(v: Index) -> str:
            n, c, yy, xx, ry, rx = v
            hy, wx = affine(yy, sh, ry, dh, ph), affine(xx, sw, rx, dw, pw)
            load = x.load([n, c, hy, wx])
            if ph or pw:
                cond = f"0 <= {hy} and {hy} < {H} and 0 <= {wx} and {wx} < {W}"
                load = f"T.if_then_else({cond}, {load}, {_NEG_INF if kind == 'max' else f32(0.0)})"
            cur = f"{acc}[{n}, {c}, {yy}, {xx}]"
            return f"T.max({cur}, {load})" if kind == "max" else f"{cur} + {load}"

        w.stage(acc, [*out_shape, kh, kw], "SSSSRR", body, lambda v: f"{acc}[{', '.join(v[:4])}]",
                init=_NEG_INF if kind == "max" else f32(0.0))
        if kind == "max":
            return lambda idx: f"{acc}[{', '.join(idx)}]"
        if node.attrs.get("count_include_pad", 0) or not (ph or pw):
            return lambda idx: f"{acc}[{', '.join(idx)}] / {f32(kh * kw)}"

        def avg(idx: Index) -> str:
            # Divide by the number of window elements inside the input (count_include_pad=0).
            y0, x0 = f"{idx[2]} * {sh} - {ph}", f"{idx[3]} * {sw} - {pw}"
            rows = f"(T.min({y0} + {(kh - 1) * dh + 1}, {H}) - T.max({y0}, 0) + {dh - 1}) // {dh}"
            cols = f"(T.min({x0} + {(kw - 1) * dw + 1}, {W}) - T.max({x0}, 0) + {dw - 1}) // {dw}"
            return f"{acc}[{', '.join(idx)}] / T.Cast(\"float32\", ({rows}) * ({cols}))"

        return avg

    return compute


def _gap_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    if len(x) < 3:
        raise OpError(f"input of shape {x} has no spatial dimensions")
    return (*x[:2], *([1] * (len(x) - 2)))


def _gap(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    spatial = list(x.shape[2:])
    count = int(np.prod(spatial))
    acc = w.alloc("x_red", x.shape[:2])
    nsp = len(spatial)

    def body(v: Index) -> str:
        return f"{acc}[{v[0]}, {v[1]}] + {x.load(v)}"

    w.stage("x_red", [*x.shape[:2], *spatial], "SS" + "R" * nsp, body, lambda v: f"{acc}[{v[0]}, {v[1]}]", init=f32(0.0))
    return lambda idx: f"{acc}[{idx[0]}, {idx[1]}] / {f32(count)}"


# ---- Softmax ------------------------------------------------------------------------------

def _softmax_axis(node: OpNode, rank: int) -> int:
    axis = int(node.attrs.get("axis", -1))  # type: ignore[call-overload]
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise OpError(f"axis {axis} is out of range for rank {rank}", "axis")
    return axis


def _softmax_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axis = _softmax_axis(node, len(x))
    opset = int(node.attrs.get("__opset", 13))  # type: ignore[call-overload]
    if opset < 13 and axis != len(x) - 1:
        raise OpError(f"Softmax before opset 13 with axis={axis} (not the last) flattens the input; not supported",
                      "axis")
    return x


def _softmax(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    axis = _softmax_axis(node, len(out_shape))
    rank = len(out_shape)
    red_shape = tuple(d for i, d in enumerate(out_shape) if i != axis) or (1,)
    mx = w.alloc("T_softmax_maxelem", red_shape)
    sm = w.alloc("T_softmax_expsum", red_shape)
    order = [i for i in range(rank) if i != axis] + [axis]
    extents = [out_shape[i] for i in order]

    def full(v: Index) -> Index:
        idx = [""] * rank
        for pos, dim in enumerate(order):
            idx[dim] = v[pos]
        return idx

    def red(v: Index) -> str:
        return ", ".join(v[:-1]) or "0"

    kinds = "S" * (rank - 1) + "R"
    w.stage("T_softmax_maxelem", extents, kinds, lambda v: f"T.max({mx}[{red(v)}], {x.load(full(v))})",
            lambda v: f"{mx}[{red(v)}]", init=_NEG_INF)
    w.stage("T_softmax_expsum", extents, kinds,
            lambda v: f"{sm}[{red(v)}] + T.exp({x.load(full(v))} - {mx}[{red(v)}])",
            lambda v: f"{sm}[{red(v)}]", init=f32(0.0))

    def final(idx: Index) -> str:
        r = ", ".join(i for d, i in enumerate(idx) if d != axis) or "0"
        return f"T.exp({x.load(idx)} - {mx}[{r}]) / {sm}[{r}]"

    return final


_CONV_ATTRS = {"auto_pad": "NOTSET", "dilations": None, "group": 1, "kernel_shape": None, "pads": None, "strides": None}
_POOL_ATTRS = {"auto_pad": "NOTSET", "ceil_mode": 0, "dilations": None, "kernel_shape": None, "pads": None,
               "storage_order": 0, "strides": None}

OPS = [
    OpDef("Conv", "nn_conv2d", COMPLEX, _CONV_ATTRS, 2, 3, _conv_shape, _conv),
    OpDef("Gemm", "nn_dense", COMPLEX, {"alpha": 1.0, "beta": 1.0, "transA": 0, "transB": 0}, 2, 3, _gemm_shape, _gemm),
    OpDef("MatMul", "nn_matmul", COMPLEX, {}, 2, 2, _matmul_shape, _matmul),
    OpDef("MaxPool", "nn_max_pool2d", COMPLEX, _POOL_ATTRS, 1, 1, _pool_shape, _pool("max")),  # type: ignore[arg-type]
    OpDef("AveragePool", "nn_avg_pool2d", COMPLEX, {**_POOL_ATTRS, "count_include_pad": 0}, 1, 1,
          _pool_shape, _pool("avg")),  # type: ignore[arg-type]
    OpDef("GlobalAveragePool", "nn_global_avg_pool2d", COMPLEX, {}, 1, 1, _gap_shape, _gap),
    OpDef("Softmax", "nn_softmax", COMPLEX, {"axis": -1}, 1, 1, _softmax_shape, _softmax),
]
