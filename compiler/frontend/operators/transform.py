"""Injective operators: they move elements without arithmetic (reshape, flatten, transpose,
concatenate). Each reads its inputs at remapped indices, so it starts a fused group."""

from __future__ import annotations

import numpy as np

from compiler.frontend.graph import OpNode
from compiler.frontend.operators.base import INJECTIVE, Expr, Index, OpDef, Operand, OpError, StageWriter


def _strides(shape: tuple[int, ...]) -> list[int]:
    out, acc = [], 1
    for d in reversed(shape):
        out.append(acc)
        acc *= d
    return list(reversed(out))


def _reindex(idx: Index, out_shape: tuple[int, ...], in_shape: tuple[int, ...]) -> Index:
    """Row-major flat position of ``idx`` in ``out_shape``, unflattened into ``in_shape``."""
    terms = [f"{i} * {s}" if s != 1 else i for i, s, d in zip(idx, _strides(out_shape), out_shape) if d != 1]
    flat = " + ".join(terms) or "0"
    out = []
    for d, s in zip(in_shape, _strides(in_shape)):
        if d == 1:
            out.append("0")
            continue
        e = f"({flat})" if s == 1 else f"({flat}) // {s}"
        out.append(f"{e} % {d}" if s * d != int(np.prod(in_shape)) else e)
    return out


def _reshape_like(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x = ins[0]
    return lambda idx: x.load(_reindex(idx, out_shape, x.shape))


def _flatten_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axis = int(node.attrs.get("axis", 1))  # type: ignore[call-overload]
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

    def final(idx: Index) -> str:
        src = [""] * len(perm)
        for out_dim, in_dim in enumerate(perm):
            src[in_dim] = idx[out_dim]
        return x.load(src)

    return final


def _concat_axis(node: OpNode, rank: int) -> int:
    if "axis" not in node.attrs or node.attrs["axis"] is None:
        raise OpError("attribute axis is required", "axis")
    axis = int(node.attrs["axis"])  # type: ignore[call-overload]
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

    def final(idx: Index) -> str:
        # Nested selects from the last input backwards; each reads only when its range holds.
        starts, acc = [], 0
        for op in ins:
            starts.append(acc)
            acc += op.shape[axis]
        expr = ""
        for k in reversed(range(len(ins))):
            shifted = list(idx)
            if starts[k]:
                shifted[axis] = f"{idx[axis]} - {starts[k]}"
            load = ins[k].load(shifted)
            if not expr:
                expr = load
            else:
                expr = f"T.if_then_else({idx[axis]} < {starts[k] + ins[k].shape[axis]}, {load}, {expr})"
        return expr

    return final


OPS = [
    OpDef("Flatten", "nn_batch_flatten", INJECTIVE, {"axis": 1}, 1, 1, _flatten_shape, _reshape_like),
    OpDef("Reshape", "reshape", INJECTIVE, {"allowzero": 0}, 2, 2, _reshape_shape, _reshape_like, const_inputs=(1,)),
    OpDef("Transpose", "transpose", INJECTIVE, {"perm": None}, 1, 1, _transpose_shape, _transpose),
    OpDef("Concat", "concatenate", INJECTIVE, {"axis": None}, 1, 64, _concat_shape, _concat),
]
