"""Elementwise operators: binary arithmetic with broadcasting, activations, inference batch
norm (folded to a per-channel scale and shift). All fuse into their producer."""

from __future__ import annotations

import numpy as np

from compiler.frontend.graph import OpNode
from compiler.frontend.operators.base import (
    ELEMENTWISE,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    broadcast,
    broadcast_shape,
    f32,
)


def _binary_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    return broadcast_shape(shapes[0], shapes[1])


def _unary_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    return shapes[0]


def _load(op: Operand, idx: Index, out_shape: tuple[int, ...]) -> str:
    return op.load(broadcast(idx, op.shape, out_shape))


def _binary(symbol: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        a, b = ins
        return lambda idx: f"({_load(a, idx, out_shape)} {symbol} {_load(b, idx, out_shape)})"

    return compute


def _relu(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    return lambda idx: f"T.max({ins[0].load(idx)}, {f32(0.0)})"


def _clip(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    lo, hi = node.attrs["min"], node.attrs["max"]
    assert isinstance(lo, float) and isinstance(hi, float)
    return lambda idx: f"T.min(T.max({ins[0].load(idx)}, {f32(lo)}), {f32(hi)})"


def _clip_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    # Opset 11+ passes min and max as (constant) inputs; attributes in older opsets.
    attrs = dict(node.attrs)
    for pos, key in ((1, "min"), (2, "max")):
        if len(node.inputs) > pos and node.inputs[pos]:
            name = node.inputs[pos]
            if name not in consts:
                raise OpError(f"input {name} ({key}) must be a constant")
            attrs[key] = float(np.asarray(consts[name]).reshape(-1)[0])
    attrs.setdefault("min", float("-inf"))
    attrs.setdefault("max", float("inf"))
    attrs["min"], attrs["max"] = float(attrs["min"]), float(attrs["max"])  # type: ignore[arg-type]
    return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, attrs), {}


def _sigmoid(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    return lambda idx: f"{f32(1.0)} / ({f32(1.0)} + T.exp({f32(0.0)} - {ins[0].load(idx)}))"


def _tanh(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    return lambda idx: f"T.tanh({ins[0].load(idx)})"


def _bn_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    if node.attrs.get("training_mode", 0):
        raise OpError("training_mode=1 is not supported (inference only)", "training_mode")
    if len(node.outputs) > 1:
        raise OpError("only the first output (inference) is supported")
    x, scale, bias, mean, var = node.inputs
    for name in (scale, bias, mean, var):
        if name not in consts:
            raise OpError(f"input {name} must be a constant (inference batch norm)")
    eps = float(node.attrs.get("epsilon", 1e-5))  # type: ignore[arg-type]
    a = (consts[scale] / np.sqrt(consts[var].astype(np.float64) + eps)).astype(np.float32)
    b = (consts[bias] - consts[mean] * a).astype(np.float32)
    a_name, b_name = f"{node.outputs[0]}__scale", f"{node.outputs[0]}__shift"
    folded = OpNode(node.name, node.op_type, (x, a_name, b_name), node.outputs, {})
    return folded, {a_name: a, b_name: b}


def _bn_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    if len(shapes[0]) < 2 or shapes[1] != (shapes[0][1],):
        raise OpError(f"input of shape {shapes[0]} needs per-channel parameters of shape ({shapes[0][1] if len(shapes[0]) > 1 else '?'},)")
    return shapes[0]


def _bn(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x, a, b = ins
    return lambda idx: f"{x.load(idx)} * {a.load([idx[1]])} + {b.load([idx[1]])}"


OPS = [
    OpDef("Add", "add", ELEMENTWISE, {}, 2, 2, _binary_shape, _binary("+")),  # type: ignore[arg-type]
    OpDef("Sub", "subtract", ELEMENTWISE, {}, 2, 2, _binary_shape, _binary("-")),  # type: ignore[arg-type]
    OpDef("Mul", "multiply", ELEMENTWISE, {}, 2, 2, _binary_shape, _binary("*")),  # type: ignore[arg-type]
    OpDef("Div", "divide", ELEMENTWISE, {}, 2, 2, _binary_shape, _binary("/")),  # type: ignore[arg-type]
    OpDef("Relu", "nn_relu", ELEMENTWISE, {}, 1, 1, _unary_shape, _relu),
    OpDef("Clip", "clip", ELEMENTWISE, {"min": None, "max": None}, 1, 3, _unary_shape, _clip, fold=_clip_fold),
    OpDef("Sigmoid", "sigmoid", ELEMENTWISE, {}, 1, 1, _unary_shape, _sigmoid),
    OpDef("Tanh", "tanh", ELEMENTWISE, {}, 1, 1, _unary_shape, _tanh),
    OpDef("BatchNormalization", "nn_batch_norm", ELEMENTWISE,
          {"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0}, 5, 5, _bn_shape, _bn, fold=_bn_fold),
]
