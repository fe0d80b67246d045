"""Injective operators: they move elements without arithmetic (reshape, flatten, transpose,
concatenate). Each reads its inputs at remapped indices, so it starts a fused group."""

from __future__ import annotations

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOAT8S, NUMBERS, OpNode
from tir_lsp.compiler.frontend.operators.base import (
    INJECTIVE,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    as_int,
    as_ints,
    at,
    axes_input_fold,
    index_zero,
    lit,
    same_dtype,
)
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.construct import Value

_ANY = same_dtype((*NUMBERS, "bool", *FLOAT8S))


def _strides(shape: tuple[int, ...]) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return list(reversed(out))


def _sum(terms: list[Value]) -> Value:
    """``t0 + t1 + ...`` (``0`` when there is none)."""
    out = terms[0] if terms else index_zero()
    for t in terms[1:]:
        out = out + t
    return out


def _value(i: ir.ExprLike) -> Value:
    return i if isinstance(i, Value) else Value(ir.expr(i))


def _reindex(idx: Index, out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> list[Value]:
    """Row-major flat position of ``idx`` in ``out_shape``, unflattened into ``in_shape``."""
    flat = _sum([_value(i) * s if s != 1 else _value(i)
                 for i, s, d in zip(idx, _strides(out_shape), out_shape) if d != 1])
    out = []
    for d, s in zip(in_shape, _strides(in_shape)):
        if d == 1:
            out.append(index_zero())
            continue
        e = flat if s == 1 else flat // s
        out.append(e % d if s * d != int(np.prod(in_shape)) else e)
    return out


def _reshape_like(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    if x.buffer is not None and len(x.shape) > 1:
        # The input read as the flat array it is, at the output's row-major position: the
        # copy walks both contiguously, instead of a division and a modulo per dimension and
        # element (shufflenet's channel shuffles were a fifth of its time).
        flat = ir.buffer(w.fresh(f"{x.buffer.name}_flat"), (int(np.prod(x.shape)),), x.buffer.dtype, data=x.buffer.data)
        w.emit(ir.decl_buffer(flat))
        return lambda idx: at(flat, [_sum([_value(i) * s if s != 1 else _value(i)
                                           for i, s, d in zip(idx, _strides(out_shape), out_shape) if d != 1])])
    return lambda idx: x.load(_reindex(idx, out_shape, x.shape))


def _flatten_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axis = as_int(node.attrs.get("axis", 1))
    axis = axis + len(x) if axis < 0 else axis
    if not 0 <= axis <= len(x):
        raise OpError(f"axis {axis} is out of range for rank {len(x)}", "axis")
    return (int(np.prod(x[:axis])), int(np.prod(x[axis:])))


def _reshape_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    if 1 not in consts:
        raise OpError("the target shape must be a constant (dynamic shapes are not supported)")
    if node.attrs.get("allowzero", 0):
        raise OpError("allowzero=1 is not supported", "allowzero")
    want = [int(v) for v in consts[1].reshape(-1)]
    out = [x[i] if v == 0 else v for i, v in enumerate(want)]
    total = int(np.prod(x))
    if out.count(-1) > 1:
        raise OpError(f"target shape {want} has more than one -1")
    if -1 in out:
        known = int(np.prod([v for v in out if v != -1]))
        out[out.index(-1)] = total // known if known else 0
    if int(np.prod(out)) != total:
        raise OpError(f"cannot reshape {x} to {want}")
    return tuple(out)


def _transpose_perm(node: OpNode, rank: int) -> list[int]:
    perm = node.attrs.get("perm")
    if perm is None:
        return list(reversed(range(rank)))
    assert isinstance(perm, list)
    if sorted(int(p) for p in perm) != list(range(rank)):
        raise OpError(f"perm {perm} is not a permutation of rank {rank}", "perm")
    return [int(p) for p in perm]


def _transpose_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    return tuple(x[p] for p in _transpose_perm(node, len(x)))


def _transpose(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    perm = _transpose_perm(node, len(x.shape))

    def final(idx: Index) -> Value:
        src: list[ir.ExprLike] = [0] * len(perm)
        for out_dim, in_dim in enumerate(perm):
            src[in_dim] = idx[out_dim]
        return x.load(src)

    return final


def _concat_axis(node: OpNode, rank: int) -> int:
    if "axis" not in node.attrs or node.attrs["axis"] is None:
        raise OpError("attribute axis is required", "axis")
    axis = as_int(node.attrs["axis"])
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise OpError(f"axis {axis} is out of range for rank {rank}", "axis")
    return axis


def _concat_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    axis = _concat_axis(node, len(shapes[0]))
    for s in shapes[1:]:
        if len(s) != len(shapes[0]) or any(a != b for d, (a, b) in enumerate(zip(s, shapes[0])) if d != axis):
            raise OpError(f"inputs of shapes {shapes[0]} and {s} differ outside axis {axis}")
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def _concat(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    axis = _concat_axis(node, len(out_shape))

    def final(idx: Index) -> Value:
        # Nested selects from the last input backwards; each reads only when its range holds.
        starts, acc = [], 0
        for op in ins:
            starts.append(acc)
            acc += op.shape[axis]
        expr: Value | None = None
        for k in reversed(range(len(ins))):
            shifted = list(idx)
            if starts[k]:
                shifted[axis] = _value(idx[axis]) - starts[k]
            load = ins[k].load(shifted)
            if expr is None:
                expr = load
            else:
                expr = ir.if_then_else(_value(idx[axis]) < starts[k] + ins[k].shape[axis], load, expr)
        assert expr is not None
        return expr

    return final


def _reshape_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    # Before opset 5 the target shape is an attribute; afterwards a (constant) input.
    if len(node.inputs) == 1 and node.attrs.get("shape") is not None:
        name = f"{node.outputs[0]}__shape"
        attrs = {k: v for k, v in node.attrs.items() if k != "shape"}
        return OpNode(node.name, node.op_type, (*node.inputs, name), node.outputs, attrs), \
            {name: np.asarray(node.attrs["shape"], np.int64)}
    return node, {}



def _unsqueeze_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axes = node.attrs.get("axes")
    if not axes:
        raise OpError("axes are required", "axes")
    rank = len(x) + len(axes)  # type: ignore[arg-type]
    norm = sorted(a + rank if a < 0 else a for a in as_ints(axes))
    if len(set(norm)) != len(norm) or norm[0] < 0 or norm[-1] >= rank:
        raise OpError(f"axes {axes} are invalid for output rank {rank}", "axes")
    out, it = [], iter(x)
    for d in range(rank):
        out.append(1 if d in norm else next(it))
    return tuple(out)


def _squeeze_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axes = node.attrs.get("axes")
    if axes is None:
        return tuple(d for d in x if d != 1) or (1,)
    norm = {a + len(x) if a < 0 else a for a in as_ints(axes)}
    for a in norm:
        if not 0 <= a < len(x) or x[a] != 1:
            raise OpError(f"axis {a} of shape {x} is not of size 1", "axes")
    return tuple(d for i, d in enumerate(x) if i not in norm) or (1,)


def _slice_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    """Opset 10+ passes starts, ends, axes and steps as constant inputs -> attributes."""
    if len(node.inputs) == 1:
        return node, {}
    vals = []
    for pos in range(1, 5):
        name = node.inputs[pos] if len(node.inputs) > pos else ""
        if name and name not in consts:
            raise OpError(f"input {name} must be a constant (dynamic shapes are not supported)")
        vals.append([int(v) for v in consts[name].reshape(-1)] if name else None)
    attrs = {**node.attrs, "starts": vals[0], "ends": vals[1]}
    if vals[2] is not None:
        attrs["axes"] = vals[2]
    if vals[3] is not None:
        attrs["steps"] = vals[3]
    return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, attrs), {}


def _slice_ranges(node: OpNode, shape: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(start, step, count) per dimension, clamped as ONNX Slice clamps."""
    starts, ends = node.attrs.get("starts"), node.attrs.get("ends")
    if starts is None or ends is None:
        raise OpError("starts and ends are required")
    axes = node.attrs.get("axes") or list(range(len(starts)))  # type: ignore[arg-type]
    steps = node.attrs.get("steps") or [1] * len(starts)  # type: ignore[arg-type]
    out = [(0, 1, d) for d in shape]
    for s, e, a, st in zip(starts, ends, axes, steps):  # type: ignore[call-overload]
        a = int(a) + len(shape) if int(a) < 0 else int(a)
        if not 0 <= a < len(shape):
            raise OpError(f"axis {a} is out of range for rank {len(shape)}", "axes")
        if st == 0:
            raise OpError("a step of 0", "steps")
        dim = shape[a]
        start, stop, step = slice(int(s), int(e), int(st)).indices(dim)
        count = max(0, -(-(stop - start) // step)) if step > 0 else max(0, -(-(start - stop) // -step))
        out[a] = (start, step, count)
    return out


def _slice_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    return tuple(c for _, _, c in _slice_ranges(node, shapes[0]))


def _slice(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    ranges = _slice_ranges(node, x.shape)

    def at(i: ir.ExprLike, start: int, step: int) -> Value:
        e = _value(i) if step == 1 else _value(i) * step
        return e if start == 0 else e + start

    return lambda idx: x.load([at(i, s, st) for i, (s, st, _) in zip(idx, ranges)])


def _const_ints(consts: dict[int, np.ndarray], pos: int, what: str) -> list[int]:
    if pos not in consts:
        raise OpError(f"{what} must be a constant (dynamic shapes are not supported)")
    return [int(v) for v in consts[pos].reshape(-1)]


def _expand_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    from tir_lsp.compiler.frontend.operators.base import broadcast_shape

    return broadcast_shape(shapes[0], tuple(_const_ints(consts, 1, "the shape")))


def _expand(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    from tir_lsp.compiler.frontend.operators.base import broadcast

    x = ins[0]
    return lambda idx: x.load(broadcast(idx, x.shape, out_shape))


def _tile_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    reps = _const_ints(consts, 1, "repeats")
    if len(reps) != len(shapes[0]) or min(reps) < 1:
        raise OpError(f"repeats {reps} do not fit the input of shape {shapes[0]}")
    return tuple(d * r for d, r in zip(shapes[0], reps))


def _tile(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    return lambda idx: x.load([i if d == o else index_zero() if d == 1 else _value(i) % d
                               for i, d, o in zip(idx, x.shape, out_shape)])


def _pad_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    """Opset 11+ passes pads (and the value, and from 18 axes) as constant inputs."""
    attrs = dict(node.attrs)
    if "paddings" in attrs:  # opset 1
        attrs["pads"] = attrs.pop("paddings")
    for pos, key in ((1, "pads"), (2, "value"), (3, "axes")):
        name = node.inputs[pos] if len(node.inputs) > pos else ""
        if not name:
            continue
        if name not in consts:
            raise OpError(f"input {name} ({key}) must be a constant")
        arr = consts[name].reshape(-1)
        attrs[key] = arr[0].item() if key == "value" else [int(v) for v in arr]
    return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, attrs), {}


def _pad_amounts(node: OpNode, rank: int) -> list[int]:
    if node.attrs.get("pads") is None:
        raise OpError("pads are required", "pads")
    pads = as_ints(node.attrs["pads"])
    if node.attrs.get("axes") is not None:
        axes = as_ints(node.attrs["axes"])
        full = [0] * (2 * rank)
        for k, a in enumerate(axes):
            a = a + rank if a < 0 else a
            full[a], full[a + rank] = pads[k], pads[k + len(axes)]
        pads = full
    if len(pads) != 2 * rank:
        raise OpError(f"pads {pads} need {2 * rank} values for rank {rank}", "pads")
    return pads


def _pad_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    pads = _pad_amounts(node, len(x))
    mode = node.attrs.get("mode", "constant")
    if mode not in ("constant", "edge", "reflect", "wrap"):
        raise OpError(f"mode {mode!r} is not supported", "mode")
    out = tuple(d + pads[i] + pads[i + len(x)] for i, d in enumerate(x))
    if mode != "constant" and min(pads) < 0:
        raise OpError("negative pads are supported only in constant mode", "pads")
    if mode == "reflect" and any(d < 2 and (pads[i] or pads[i + len(x)]) for i, d in enumerate(x)):
        raise OpError("reflect padding needs at least 2 elements along each padded axis", "mode")
    return out


def _pad(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """Constant padding is a guarded read (only the sides with a pad are checked); edge,
    reflect and wrap remap the index into the input."""
    x = ins[0]
    rank = len(x.shape)
    pads = _pad_amounts(node, rank)
    mode = str(node.attrs.get("mode", "constant"))
    value = node.attrs.get("value", 0.0) or 0.0
    pad_value = lit(value if x.dtype.startswith("float") else int(value), x.dtype)  # type: ignore[call-overload, arg-type]

    def final(idx: Index) -> Value:
        src: list[Value] = []
        conds: list[Value] = []
        for i, d, b, e in zip(idx, x.shape, pads, pads[rank:]):
            j = _value(i) if b == 0 else _value(i) - b if b > 0 else _value(i) + -b
            if b == 0 and e <= 0:
                src.append(j)
                continue
            if mode == "constant":
                if b > 0:
                    conds.append(ir.le(0, j))
                if e > 0:
                    conds.append(j < d)
                src.append(j)
            elif mode == "edge":
                src.append(ir.min_of(ir.max_of(j, 0), d - 1))
            elif mode == "wrap":
                src.append(j % d)
            else:  # reflect: fold once at each end (pads are below the size)
                src.append((d - 1) - ir.builtin("abs", (d - 1) - ir.builtin("abs", j)))
        load = x.load(src)
        if conds:
            return ir.if_then_else(ir.logical_and(*conds), load, pad_value)
        return load

    return final


def _gather_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axis = _gather_axis(node, len(x))
    if "__indices" not in node.attrs:  # run-time indices; out-of-range ones are clamped
        return (*x[:axis], *shapes[1], *x[axis + 1:])
    ind = np.asarray(node.attrs["__indices"])
    if ind.size and (ind.min() < -x[axis] or ind.max() >= x[axis]):
        raise OpError(f"indices out of range for dimension {x[axis]}")
    return (*x[:axis], *ind.shape, *x[axis + 1:]) or (1,)


def _gather_axis(node: OpNode, rank: int) -> int:
    axis = as_int(node.attrs.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise OpError(f"axis {axis} is out of range for rank {rank}", "axis")
    return axis


def _gather_dtype(node: OpNode, dtypes: list[str | None]) -> str:
    if len(dtypes) > 1 and dtypes[1] not in (None, "int32", "int64"):
        raise OpError(f"indices have dtype {dtypes[1]}; int32 or int64 expected")
    return _ANY(node, dtypes[:1])


def _index_at(ind: Operand, at: Index, dim: int) -> Value:
    """The run-time index ``ind[at]`` as an in-bounds int32 position along a dimension of
    size ``dim``: negative indices count from the end, and an index still out of range is
    clamped to the nearest end (as TVM's ``take`` with mode "clip"; onnxruntime reports an
    error instead). The generated code never reads outside the buffer."""
    dt = ind.dtype
    v = ind.load(at)
    norm = ir.if_then_else(v < lit(0, dt), v + lit(dim, dt), v)
    clamped = ir.max_of(ir.min_of(norm, lit(dim - 1, dt)), lit(0, dt))
    return clamped if dt == "int32" else Value(ir.cast("int32", clamped))


def _gather(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """Constant indices: an affine index when they form a range, a select chain otherwise;
    run-time indices: a load of the index (see ``_index_at``)."""
    x = ins[0]
    axis = _gather_axis(node, len(x.shape))
    dim = x.shape[axis]
    if "__indices" not in node.attrs:
        ind = ins[1]
        k = len(ind.shape)
        return lambda idx: x.load([*idx[:axis], _index_at(ind, idx[axis:axis + k], dim), *idx[axis + k:]])
    const = np.asarray(node.attrs["__indices"]).astype(np.int64)
    flat = [int(v) % dim for v in const.reshape(-1)]
    k = const.ndim

    def final(idx: Index) -> Value:
        pre, mid, post = idx[:axis], idx[axis:axis + k], idx[axis + k:]
        if k == 0:
            return x.load([*pre, flat[0], *post])
        pos = _sum([_value(i) * s for i, s in zip(mid, _strides(const.shape))]) if len(mid) > 1 else _value(mid[0])
        step = flat[1] - flat[0] if len(flat) > 1 else 1
        if all(v == flat[0] + n * step for n, v in enumerate(flat)):
            return x.load([*pre, flat[0] + (pos * step if step != 1 else pos), *post])
        expr = x.load([*pre, flat[-1], *post])
        for n in range(len(flat) - 2, -1, -1):
            expr = ir.if_then_else(ir.eq(pos, n), x.load([*pre, flat[n], *post]), expr)
        return expr

    return final


def _gather_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    """Constant indices (up to 256 scattered ones, or any range) go into the code; more, or
    run-time ones, stay an input read at run time."""
    if node.inputs[1] in consts:
        ind = consts[node.inputs[1]]
        flat = ind.reshape(-1)
        if ind.size > 256 and ind.ndim and not np.all(np.diff(flat) == (flat[1] - flat[0] if flat.size > 1 else 0)):
            return node, {}
        return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, {**node.attrs, "__indices": ind}), {}
    return node, {}


def _gather_elements_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x, ind = shapes
    _gather_axis(node, len(x))
    if len(ind) != len(x):
        raise OpError(f"indices of shape {ind} do not have the rank of the data's {x}")
    return ind


def _gather_elements(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x, ind = ins
    axis = _gather_axis(node, len(x.shape))
    return lambda idx: x.load([*idx[:axis], _index_at(ind, idx, x.shape[axis]), *idx[axis + 1:]])


OPS = [
    OpDef("Flatten", "nn_batch_flatten", INJECTIVE, {"axis": 1}, 1, 1, _flatten_shape, _reshape_like, dtypes=_ANY),
    OpDef("Reshape", "reshape", INJECTIVE, {"allowzero": 0, "shape": None, "consumed_inputs": None}, 1, 2, _reshape_shape,
          _reshape_like, const_inputs=(1,), fold=_reshape_fold, dtypes=_ANY),
    OpDef("Unsqueeze", "expand_dims", INJECTIVE, {"axes": None}, 1, 2, _unsqueeze_shape, _reshape_like, fold=axes_input_fold, dtypes=_ANY),
    OpDef("Squeeze", "squeeze", INJECTIVE, {"axes": None}, 1, 2, _squeeze_shape, _reshape_like, fold=axes_input_fold, dtypes=_ANY),
    OpDef("Transpose", "transpose", INJECTIVE, {"perm": None}, 1, 1, _transpose_shape, _transpose, dtypes=_ANY),
    OpDef("Concat", "concatenate", INJECTIVE, {"axis": None}, 1, 64, _concat_shape, _concat, dtypes=_ANY),
    OpDef("Slice", "strided_slice", INJECTIVE, {"starts": None, "ends": None, "axes": None, "steps": None}, 1, 5,
          _slice_shape, _slice, fold=_slice_fold, dtypes=_ANY),
    OpDef("Split", "split", INJECTIVE, {"axis": 0, "split": None, "num_outputs": None}, 1, 2, _slice_shape, _slice, dtypes=_ANY),
    OpDef("Expand", "broadcast_to", INJECTIVE, {}, 2, 2, _expand_shape, _expand, const_inputs=(1,), dtypes=_ANY),
    OpDef("Tile", "tile", INJECTIVE, {}, 2, 2, _tile_shape, _tile, const_inputs=(1,), dtypes=_ANY),
    OpDef("Pad", "nn_pad", INJECTIVE, {"mode": "constant", "pads": None, "paddings": None, "value": 0.0}, 1, 4,
          _pad_shape, _pad, fold=_pad_fold, dtypes=_ANY),
    OpDef("Gather", "take", INJECTIVE, {"axis": 0}, 2, 2, _gather_shape, _gather, fold=_gather_fold, dtypes=_gather_dtype),
    OpDef("GatherElements", "gather", INJECTIVE, {"axis": 0}, 2, 2, _gather_elements_shape, _gather_elements,
          dtypes=_gather_dtype),
]
