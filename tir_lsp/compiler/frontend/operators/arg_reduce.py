"""ArgMax and ArgMin: the int64 position of the largest (smallest) element along one axis.

Two reductions over the axis: the extreme value first (in the input's dtype; float16 in
float32), then the first position holding it (the last one with ``select_last_index=1``).
Both accumulators are intermediate buffers of the function."""

from __future__ import annotations

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOATS, NUMBERS, OpNode
from tir_lsp.compiler.frontend.operators.base import (
    COMPLEX,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    accum_dtype,
    as_int,
    at,
    index_zero,
    lit,
    same_dtype,
)
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.construct import Value


def _axis(node: OpNode, rank: int) -> int:
    axis = as_int(node.attrs.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank:
        raise OpError(f"axis {axis} is out of range for rank {rank}", "axis")
    return axis


def _shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    x = shapes[0]
    axis = _axis(node, len(x))
    if int(node.attrs.get("keepdims", 1)):  # type: ignore[call-overload]
        return tuple(1 if i == axis else d for i, d in enumerate(x))
    return tuple(d for i, d in enumerate(x) if i != axis) or (1,)


def _dtype(node: OpNode, dtypes: list[str | None]) -> str:
    same_dtype(NUMBERS)(node, dtypes)
    return "int64"


def _arg(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        x = ins[0]
        rank = len(x.shape)
        axis = _axis(node, rank)
        keep = [i for i in range(rank) if i != axis]
        red_shape = tuple(x.shape[i] for i in keep) or (1,)
        dim = x.shape[axis]
        dt = accum_dtype(x.dtype)
        nk = len(keep)

        def full(v: Index) -> Index:
            idx: list[ir.ExprLike] = [0] * rank
            for pos, d in enumerate(keep):
                idx[d] = v[pos]
            idx[axis] = v[nk]
            return idx

        def red(buf: Buffer) -> Expr:
            return lambda v: at(buf, v[:nk] or [index_zero()])

        def load(v: Index) -> Value:
            value = x.load(full(v))
            return value if dt == x.dtype else Value(ir.cast(dt, value))

        best = w.alloc(f"x_red_{kind}", red_shape, dt)
        extreme = float("-inf") if kind == "max" else float("inf")
        if dt not in FLOATS:
            info = np.iinfo(dt)
            extreme = info.min if kind == "max" else info.max
        w.stage(best.name, [*red_shape[:nk], dim] if nk else [dim], "S" * nk + "R",
                lambda v: ir.builtin(kind, red(best)(v), load(v)), red(best), init=lit(extreme, dt))
        last = int(node.attrs.get("select_last_index", 0))  # type: ignore[call-overload]
        pos = w.alloc(f"x_arg{kind}", red_shape, "int64")
        # The first (last) position holding the extreme: min (max) over the matching ones.
        pick, none = ("max", -1) if last else ("min", dim)
        w.stage(pos.name, [*red_shape[:nk], dim] if nk else [dim], "S" * nk + "R",
                lambda v: ir.builtin(pick, red(pos)(v), ir.if_then_else(ir.eq(load(v), red(best)(v)),
                                                                        Value(ir.cast("int64", v[nk])),
                                                                        lit(none, "int64"))),
                red(pos), init=lit(none, "int64"))
        keepdims = int(node.attrs.get("keepdims", 1))  # type: ignore[call-overload]

        def final(idx: Index) -> Value:
            kept = [idx[i] for i in keep] if keepdims else list(idx[:nk])
            return at(pos, kept or [index_zero()])

        return final

    return compute


_ATTRS = {"axis": 0, "keepdims": 1, "select_last_index": 0}

OPS = [
    OpDef("ArgMax", "argmax", COMPLEX, _ATTRS, 1, 1, _shape, _arg("max"), dtypes=_dtype),  # type: ignore[arg-type]
    OpDef("ArgMin", "argmin", COMPLEX, _ATTRS, 1, 1, _shape, _arg("min"), dtypes=_dtype),  # type: ignore[arg-type]
]
