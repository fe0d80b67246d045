"""Elementwise operators: binary arithmetic with broadcasting, activations, inference batch
norm (folded to a per-channel scale and shift). All fuse into their producer."""

from __future__ import annotations

import numpy as np

from tir_lsp.compiler.frontend.graph import OpNode
from tir_lsp.compiler.frontend.operators.base import (
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


def _axis_shape(node: OpNode, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """B's shape as numpy broadcasting sees it: before opset 7, ``broadcast=1`` with ``axis``
    lines B up with A starting at ``axis`` (trailing ones added)."""
    if node.attrs.get("broadcast") and node.attrs.get("axis") is not None and len(b) < len(a):
        axis = int(node.attrs["axis"])  # type: ignore[call-overload]
        axis = axis + len(a) if axis < 0 else axis
        if not 0 <= axis <= len(a) - len(b):
            raise OpError(f"axis {axis} does not place B of shape {b} inside A of shape {a}", "axis")
        return b + (1,) * (len(a) - axis - len(b))
    return b


def _binary_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    return broadcast_shape(shapes[0], _axis_shape(node, shapes[0], shapes[1]))


def _nary_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    out = shapes[0]
    for s in shapes[1:]:
        out = broadcast_shape(out, s)
    return out


def _unary_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    return shapes[0]


def _load(op: Operand, idx: Index, out_shape: tuple[int, ...]) -> str:
    return op.load(broadcast(idx, op.shape, out_shape))


def _binary(symbol: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        a, b = ins
        padded = _axis_shape(node, a.shape, b.shape)
        if padded != b.shape:
            n = len(b.shape)
            b = Operand(padded, lambda idx, b=b: b.load(idx[:n]))
        if symbol in ("max", "min", "pow"):
            return lambda idx: f"T.{symbol}({_load(a, idx, out_shape)}, {_load(b, idx, out_shape)})"
        return lambda idx: f"({_load(a, idx, out_shape)} {symbol} {_load(b, idx, out_shape)})"

    return compute


def _nary(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        def final(idx: Index) -> str:
            loads = [_load(op, idx, out_shape) for op in ins]
            if kind in ("max", "min"):
                expr = loads[0]
                for x in loads[1:]:
                    expr = f"T.{kind}({expr}, {x})"
                return expr
            total = "(" + " + ".join(loads) + ")"
            return f"{total} / {f32(len(ins))}" if kind == "mean" else total

        return final

    return compute


def _unary(template: str) -> object:
    """An activation from a template over ``{x}`` and the node's float attributes."""
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        def final(idx: Index) -> str:
            x = f"({ins[0].load(idx)})"
            return template.format(x=x, **{k: f32(float(v)) for k, v in _float_attrs(node).items()})

        return final

    return compute


_ACT_DEFAULTS = {"LeakyRelu": {"alpha": 0.01}, "Elu": {"alpha": 1.0},
                 "Selu": {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805},
                 "HardSigmoid": {"alpha": 0.2, "beta": 0.5}}


def _float_attrs(node: OpNode) -> dict[str, float]:
    out = dict(_ACT_DEFAULTS.get(node.op_type, {}))
    for k in out:
        if node.attrs.get(k) is not None:
            out[k] = float(node.attrs[k])  # type: ignore[arg-type]
    return out


def _prelu(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    x, slope = ins
    padded = _prelu_slope_shape(x.shape, slope.shape)
    if padded != slope.shape:
        n = len(slope.shape)
        slope = Operand(padded, lambda idx, s=slope: s.load(idx[:n]))

    def final(idx: Index) -> str:
        v = x.load(idx)
        return f"T.if_then_else({v} < {f32(0.0)}, {v} * {_load(slope, idx, out_shape)}, {v})"

    return final


def _prelu_slope_shape(x: tuple[int, ...], s: tuple[int, ...]) -> tuple[int, ...]:
    # A per-channel slope of shape (C,) (older exporters) lines up with axis 1, as TVM does.
    if len(s) == 1 and len(x) > 2 and s[0] == x[1] and x[-1] != s[0]:
        return s + (1,) * (len(x) - 2)
    return s


def _prelu_shape(node: OpNode, shapes: list[tuple[int, ...]], consts: dict[int, np.ndarray]) -> tuple[int, ...]:
    out = broadcast_shape(shapes[0], _prelu_slope_shape(shapes[0], shapes[1]))
    if out != shapes[0]:
        raise OpError(f"slope of shape {shapes[1]} does not broadcast to the input's {shapes[0]}")
    return out


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
    if node.attrs.get("is_test", 1) == 0 and len(node.outputs) > 1 and any(node.outputs[1:]):
        raise OpError("is_test=0 (training) is not supported (inference only)", "is_test")
    if node.attrs.get("spatial", 1) == 0:
        raise OpError("spatial=0 is not supported", "spatial")
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


_BIN = {"broadcast": 0, "axis": None, "consumed_inputs": None}
_UNARY_OLD = {"consumed_inputs": None}

OPS = [
    OpDef("Add", "add", ELEMENTWISE, _BIN, 2, 2, _binary_shape, _binary("+")),  # type: ignore[arg-type]
    OpDef("Sub", "subtract", ELEMENTWISE, _BIN, 2, 2, _binary_shape, _binary("-")),  # type: ignore[arg-type]
    OpDef("Mul", "multiply", ELEMENTWISE, _BIN, 2, 2, _binary_shape, _binary("*")),  # type: ignore[arg-type]
    OpDef("Div", "divide", ELEMENTWISE, _BIN, 2, 2, _binary_shape, _binary("/")),  # type: ignore[arg-type]
    OpDef("Pow", "power", ELEMENTWISE, _BIN, 2, 2, _binary_shape, _binary("pow")),  # type: ignore[arg-type]
    OpDef("Sum", "add", ELEMENTWISE, _UNARY_OLD, 1, 64, _nary_shape, _nary("sum")),  # type: ignore[arg-type]
    OpDef("Mean", "mean", ELEMENTWISE, _UNARY_OLD, 1, 64, _nary_shape, _nary("mean")),  # type: ignore[arg-type]
    OpDef("Max", "maximum", ELEMENTWISE, _UNARY_OLD, 1, 64, _nary_shape, _nary("max")),  # type: ignore[arg-type]
    OpDef("Min", "minimum", ELEMENTWISE, _UNARY_OLD, 1, 64, _nary_shape, _nary("min")),  # type: ignore[arg-type]
    OpDef("Relu", "nn_relu", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _relu),
    OpDef("Clip", "clip", ELEMENTWISE, {"min": None, "max": None, **_UNARY_OLD}, 1, 3, _unary_shape, _clip,
          fold=_clip_fold),
    OpDef("Sigmoid", "sigmoid", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _sigmoid),
    OpDef("Tanh", "tanh", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _tanh),
    OpDef("Neg", "negative", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary(f"{f32(0.0)} - {{x}}")),  # type: ignore[arg-type]
    OpDef("Exp", "exp", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.exp({x})")),  # type: ignore[arg-type]
    OpDef("Log", "log", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.log({x})")),  # type: ignore[arg-type]
    OpDef("Sqrt", "sqrt", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.sqrt({x})")),  # type: ignore[arg-type]
    OpDef("Abs", "abs", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.fabs({x})")),  # type: ignore[arg-type]
    OpDef("Floor", "floor", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.floor({x})")),  # type: ignore[arg-type]
    OpDef("Ceil", "ceil", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape, _unary("T.ceil({x})")),  # type: ignore[arg-type]
    OpDef("Reciprocal", "reciprocal", ELEMENTWISE, _UNARY_OLD, 1, 1, _unary_shape,
          _unary(f"{f32(1.0)} / {{x}}")),  # type: ignore[arg-type]
    OpDef("Softplus", "softplus", ELEMENTWISE, {}, 1, 1, _unary_shape,
          _unary(f"T.log(T.exp({{x}}) + {f32(1.0)})")),  # type: ignore[arg-type]
    OpDef("LeakyRelu", "nn_leaky_relu", ELEMENTWISE, {"alpha": 0.01, **_UNARY_OLD}, 1, 1, _unary_shape,
          _unary("T.if_then_else({x} < T.float32(0.0), {x} * {alpha}, {x})")),  # type: ignore[arg-type]
    OpDef("Elu", "nn_elu", ELEMENTWISE, {"alpha": 1.0, **_UNARY_OLD}, 1, 1, _unary_shape,
          _unary("T.if_then_else({x} < T.float32(0.0), (T.exp({x}) - T.float32(1.0)) * {alpha}, {x})")),  # type: ignore[arg-type]
    OpDef("Selu", "nn_selu", ELEMENTWISE, {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805, **_UNARY_OLD}, 1, 1,
          _unary_shape,
          _unary("T.if_then_else({x} <= T.float32(0.0), (T.exp({x}) - T.float32(1.0)) * {alpha}, {x}) * {gamma}")),  # type: ignore[arg-type]
    OpDef("HardSigmoid", "hard_sigmoid", ELEMENTWISE, {"alpha": 0.2, "beta": 0.5, **_UNARY_OLD}, 1, 1, _unary_shape,
          _unary("T.min(T.max({x} * {alpha} + {beta}, T.float32(0.0)), T.float32(1.0))")),  # type: ignore[arg-type]
    OpDef("PRelu", "nn_prelu", ELEMENTWISE, _UNARY_OLD, 2, 2, _prelu_shape, _prelu),
    OpDef("Identity", "copy", ELEMENTWISE, {}, 1, 1, _unary_shape, _unary("{x}")),  # type: ignore[arg-type]
    OpDef("BatchNormalization", "nn_batch_norm", ELEMENTWISE,
          {"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0, "is_test": 1, "spatial": 1, **_UNARY_OLD}, 5, 5,
          _bn_shape, _bn, fold=_bn_fold),
]
