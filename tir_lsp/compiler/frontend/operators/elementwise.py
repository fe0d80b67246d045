"""Elementwise operators: binary arithmetic with broadcasting, activations, inference batch
norm (folded to a per-channel scale and shift), Cast, comparisons, logic and Where. All fuse
into their producer.

Arithmetic works in the dtype of its inputs (ONNX gives both sides one dtype): integer
division truncates (C's ``/``, as onnxruntime); float16 is computed in float and rounded
after every operation by the C backend. Activations are defined on floats only."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tir_lsp.compiler.frontend.graph import FLOAT8_MAX, FLOAT8S, FLOATS, INTS, NUMBERS, ONNX_DTYPES, OpNode
from tir_lsp.compiler.frontend.operators.base import (
    ELEMENTWISE,
    Compute,
    Expr,
    Index,
    OpDef,
    Operand,
    OpError,
    StageWriter,
    as_dtype,
    as_int,
    broadcast,
    broadcast_shape,
    lit,
    same_dtype,
)
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.construct import Value

SIGNED = FLOATS + tuple(d for d in INTS if not d.startswith("u"))
ANY = NUMBERS + ("bool",)
# What Cast and Identity take: any dtype, the 8-bit floats included.
CASTABLE = ANY + FLOAT8S


def _axis_shape(node: OpNode, a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """B's shape as numpy broadcasting sees it: before opset 7, ``broadcast=1`` with ``axis``
    lines B up with A starting at ``axis`` (trailing ones added)."""
    if node.attrs.get("broadcast") and node.attrs.get("axis") is not None and len(b) < len(a):
        axis = as_int(node.attrs["axis"])
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


def _load(op: Operand, idx: Index, out_shape: tuple[int, ...]) -> Value:
    return op.load(broadcast(idx, op.shape, out_shape))


# The BinOp of each arithmetic operator and comparison (``/`` on floats; ``T.truncdiv`` on ints).
_BINOPS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "==": "eq", "!=": "ne", "<": "lt", "<=": "le",
           ">": "gt", ">=": "ge"}


def _leading(op: Operand, padded: tuple[int, ...]) -> Operand:
    """``op`` seen with trailing dimensions of size 1 (``padded``): read at its leading indices."""
    n = len(op.shape)
    return Operand(padded, lambda idx: op.load(idx[:n]), op.dtype)


def _binary(symbol: str) -> Compute:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        a, b = ins
        padded = _axis_shape(node, a.shape, b.shape)
        if padded != b.shape:
            b = _leading(b, padded)
        if symbol in ("max", "min", "pow", "And", "Or"):
            return lambda idx: ir.builtin(symbol, _load(a, idx, out_shape), _load(b, idx, out_shape))
        if symbol == "/" and a.dtype not in FLOATS:
            return lambda idx: ir.builtin("truncdiv", _load(a, idx, out_shape), _load(b, idx, out_shape))
        return lambda idx: Value(ir.binop(_BINOPS[symbol], _load(a, idx, out_shape), _load(b, idx, out_shape)))

    return compute


def _nary(kind: str) -> object:
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        def final(idx: Index) -> Value:
            loads = [_load(op, idx, out_shape) for op in ins]
            expr = loads[0]
            for x in loads[1:]:
                expr = ir.builtin(kind, expr, x) if kind in ("max", "min") else expr + x
            return expr / lit(len(ins), ins[0].dtype) if kind == "mean" else expr

        return final

    return compute


# An activation: (x, its dtype's constants zero and one, the node's float attributes as
# constants of that dtype) -> value.
Activation = Callable[[Value, Value, Value, dict[str, Value]], Value]


def _unary(rule: Activation) -> object:
    """An activation from a rule over the input, the constants zero and one and the node's
    float attributes, all of the input's dtype."""
    def compute(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
        dt = ins[0].dtype
        consts = {k: lit(float(v), dt) for k, v in _float_attrs(node).items()}
        zero = lit(0, dt)
        one = lit(1, dt) if dt != "bool" else zero
        return lambda idx: rule(ins[0].load(idx), zero, one, consts)

    return compute


def _call(name: str) -> Activation:
    """``T.<name>(x)``."""
    return lambda x, zero, one, c: ir.builtin(name, x)


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
        slope = _leading(slope, padded)

    def final(idx: Index) -> Value:
        v = x.load(idx)
        return ir.if_then_else(v < lit(0, x.dtype), v * _load(slope, idx, out_shape), v)

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
    zero = lit(0, ins[0].dtype)
    return lambda idx: ir.max_of(ins[0].load(idx), zero)


def _clip(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt = ins[0].dtype
    bounds = []
    for key, fn in (("min", "max"), ("max", "min")):
        v = node.attrs[key]
        assert isinstance(v, (int, float))
        if dt not in FLOATS and v in (float("inf"), float("-inf")):
            continue  # no bound on this side: an integer is always within it
        bounds.append((fn, lit(v if dt in FLOATS else int(v), dt)))

    def final(idx: Index) -> Value:
        expr = ins[0].load(idx)
        for fn, bound in bounds:
            expr = ir.builtin(fn, expr, bound)
        return expr

    return final


def _clip_fold(node: OpNode, consts: dict[str, np.ndarray]) -> tuple[OpNode, dict[str, np.ndarray]]:
    # Opset 11+ passes min and max as (constant) inputs; attributes in older opsets.
    attrs = dict(node.attrs)
    for pos, key in ((1, "min"), (2, "max")):
        if len(node.inputs) > pos and node.inputs[pos]:
            name = node.inputs[pos]
            if name not in consts:
                raise OpError(f"input {name} ({key}) must be a constant")
            # An integer bound stays an int (int64 bounds do not survive a float).
            attrs[key] = np.asarray(consts[name]).reshape(-1)[0].item()
    attrs.setdefault("min", float("-inf"))
    attrs.setdefault("max", float("inf"))
    for key in ("min", "max"):
        if not isinstance(attrs[key], int):
            attrs[key] = float(attrs[key])  # type: ignore[arg-type]
    return OpNode(node.name, node.op_type, node.inputs[:1], node.outputs, attrs), {}


def _sigmoid(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    one, zero = lit(1, ins[0].dtype), lit(0, ins[0].dtype)
    return lambda idx: one / (one + ir.builtin("exp", zero - ins[0].load(idx)))


def _tanh(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    return lambda idx: ir.builtin("tanh", ins[0].load(idx))


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
    return lambda idx: x.load(idx) * a.load([idx[1]]) + b.load([idx[1]])


def _cast_to(node: OpNode, dtypes: list[str | None]) -> str:
    """Cast's output dtype: attribute ``to``; CastLike's: its second input's."""
    if node.op_type == "CastLike":
        same_dtype(CASTABLE)(node, dtypes[:1])
        return same_dtype(CASTABLE)(node, dtypes[1:2])
    to = int(node.attrs.get("to") or 0)  # type: ignore[call-overload]
    if to not in ONNX_DTYPES:
        raise OpError(f"to={to} is not a supported element type (supported: {', '.join(ONNX_DTYPES.values())})", "to")
    same_dtype(CASTABLE)(node, dtypes[:1])
    return ONNX_DTYPES[to]


def _cast(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """C's conversion: float to integer truncates toward zero (as onnxruntime's static_cast;
    out-of-range values are undefined in ONNX; the C backend makes an out-of-range int32 /
    int64 the type's minimum, as x86 does), anything to bool is ``!= 0``."""
    to = ins[1].dtype if node.op_type == "CastLike" else ONNX_DTYPES[int(node.attrs["to"])]  # type: ignore[call-overload]
    x = ins[0]
    if to == x.dtype:
        return x.load
    if to in FLOAT8S and x.dtype != "bool" and node.attrs.get("saturate", 1):
        # saturate=1 (ONNX's default): beyond the largest finite value, infinities included,
        # is that value (NaN stays NaN: both comparisons are false). The conversion itself
        # makes what still rounds beyond it NaN or an infinity (saturate=0).
        top, wide = FLOAT8_MAX[to], "float64" if x.dtype == "float64" else "float32"
        hi, lo = lit(top, wide), lit(-top, wide)

        def saturated(idx: Index) -> Value:
            v = x.load(idx) if x.dtype == wide else Value(ir.cast(wide, x.load(idx)))
            return Value(ir.cast(to, ir.if_then_else(v > hi, hi, ir.if_then_else(v < lo, lo, v))))

        return saturated
    return lambda idx: Value(ir.cast(to, x.load(idx)))


def _predicate(allowed: tuple[str, ...]) -> object:
    """The dtype rule of a comparison: inputs of one dtype from ``allowed``, output bool."""
    def rule(node: OpNode, dtypes: list[str | None]) -> str:
        same_dtype(allowed)(node, dtypes)
        return "bool"

    return rule


def _not(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    return lambda idx: ir.builtin("Not", ins[0].load(idx))


def _where_dtype(node: OpNode, dtypes: list[str | None]) -> str:
    if dtypes[0] != "bool":
        raise OpError(f"condition has dtype {dtypes[0]}; bool expected")
    return same_dtype(ANY)(node, dtypes[1:])


def _where(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    c, x, y = ins
    return lambda idx: ir.if_then_else(_load(c, idx, out_shape), _load(x, idx, out_shape), _load(y, idx, out_shape))


def _sign(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """1, -1 or the value itself (0, and NaN stays NaN as in onnxruntime)."""
    dt = ins[0].dtype
    zero, one = lit(0, dt), lit(1, dt)
    if dt.startswith("u"):
        return lambda idx: ir.if_then_else(ins[0].load(idx) > zero, one, zero)

    def final(idx: Index) -> Value:
        v = ins[0].load(idx)
        return ir.if_then_else(v > zero, one, ir.if_then_else(v < zero, lit(-1, dt), v))

    return final


def _shrink(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt = ins[0].dtype
    lambd, bias = float(node.attrs.get("lambd", 0.5)), float(node.attrs.get("bias", 0.0))  # type: ignore[arg-type]

    def final(idx: Index) -> Value:
        v = ins[0].load(idx)
        return ir.if_then_else(v < lit(-lambd, dt), v + lit(bias, dt),
                               ir.if_then_else(v > lit(lambd, dt), v - lit(bias, dt), lit(0, dt)))

    return final


def _mod_dtype(node: OpNode, dtypes: list[str | None]) -> str:
    dt = _NUMBER_RULE(node, dtypes)
    if dt in FLOATS and not node.attrs.get("fmod"):
        raise OpError("fmod=0 on floats is not defined by ONNX; set fmod=1", "fmod")
    return dt


def _mod(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """fmod=0: the remainder takes the divisor's sign (Python's %, floormod); fmod=1: the
    dividend's (C's fmod / %, truncmod)."""
    a, b = ins
    fn = "fmod" if a.dtype in FLOATS else "truncmod" if node.attrs.get("fmod") else "floormod"
    return lambda idx: ir.builtin(fn, _load(a, idx, out_shape), _load(b, idx, out_shape))


def _pow_dtype(node: OpNode, dtypes: list[str | None]) -> str:
    """Pow: a float, int32 or int64 base and any number as exponent; the result has the
    base's dtype."""
    base, exp = dtypes
    if base is None or exp is None:
        raise OpError("has no non-constant input")
    if base not in (*FLOATS, "int32", "int64"):
        raise OpError(f"base dtype {base} is not supported (supported: {', '.join((*FLOATS, 'int32', 'int64'))})")
    if exp not in NUMBERS:
        raise OpError(f"exponent dtype {exp} is not supported (a number expected)")
    return base


def _pow(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """A float to a power of its own dtype is ``T.pow``; any other pair is computed in
    float64 and converted to the base's dtype (integers truncated; out of range, infinite or
    NaN: the type's minimum, which the C backend's conversion gives as x86 does), as
    onnxruntime's ``std::pow`` and ``static_cast`` do."""
    a, b = ins
    if a.dtype == b.dtype and a.dtype in FLOATS:
        return _binary("pow")(w, node, ins, out_shape)
    power = _binary("pow")(w, node, [as_dtype(op, "float64") for op in ins], out_shape)
    return lambda idx: Value(ir.cast(a.dtype, power(idx)))


def _bitshift(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    """A shift by the type's width or more gives 0 (undefined in C, so guarded)."""
    a, b = ins
    direction = str(node.attrs.get("direction", ""))
    if direction not in ("LEFT", "RIGHT"):
        raise OpError(f"direction {direction!r} must be LEFT or RIGHT", "direction")
    fn = "shift_left" if direction == "LEFT" else "shift_right"
    bits = int(a.dtype.removeprefix("uint"))

    def final(idx: Index) -> Value:
        x, n = _load(a, idx, out_shape), _load(b, idx, out_shape)
        return ir.if_then_else(n < lit(bits, b.dtype), ir.builtin(fn, x, n), lit(0, a.dtype))

    return final


def _abs(w: StageWriter, node: OpNode, ins: list[Operand], out_shape: tuple[int, ...]) -> Expr:
    dt = ins[0].dtype
    if dt in FLOATS:
        return lambda idx: ir.builtin("fabs", ins[0].load(idx))
    if dt.startswith("u"):
        return ins[0].load
    zero = lit(0, dt)
    return lambda idx: ir.if_then_else(ins[0].load(idx) < zero, zero - ins[0].load(idx), ins[0].load(idx))


_BIN: dict[str, object] = {"broadcast": 0, "axis": None, "consumed_inputs": None}
_UNARY_OLD: dict[str, object] = {"consumed_inputs": None}
_FLOAT_RULE = same_dtype(FLOATS)
_NUMBER_RULE = same_dtype(NUMBERS)


def _op(name: str, tvm: str, attrs: dict[str, object], lo: int, hi: int, shape: object, compute: object,
        rule: object, fold: object = None) -> OpDef:
    return OpDef(name, tvm, ELEMENTWISE, attrs, lo, hi, shape, compute, fold=fold, dtypes=rule)  # type: ignore[arg-type]


OPS = [
    _op("Add", "add", _BIN, 2, 2, _binary_shape, _binary("+"), _NUMBER_RULE),
    _op("Sub", "subtract", _BIN, 2, 2, _binary_shape, _binary("-"), _NUMBER_RULE),
    _op("Mul", "multiply", _BIN, 2, 2, _binary_shape, _binary("*"), _NUMBER_RULE),
    _op("Div", "divide", _BIN, 2, 2, _binary_shape, _binary("/"), _NUMBER_RULE),
    _op("Pow", "power", _BIN, 2, 2, _binary_shape, _pow, _pow_dtype),
    _op("Sum", "add", _UNARY_OLD, 1, 64, _nary_shape, _nary("sum"), _NUMBER_RULE),
    _op("Mean", "mean", _UNARY_OLD, 1, 64, _nary_shape, _nary("mean"), _FLOAT_RULE),
    _op("Max", "maximum", _UNARY_OLD, 1, 64, _nary_shape, _nary("max"), _NUMBER_RULE),
    _op("Min", "minimum", _UNARY_OLD, 1, 64, _nary_shape, _nary("min"), _NUMBER_RULE),
    _op("Relu", "nn_relu", _UNARY_OLD, 1, 1, _unary_shape, _relu, same_dtype(SIGNED)),
    _op("Clip", "clip", {"min": None, "max": None, **_UNARY_OLD}, 1, 3, _unary_shape, _clip, _NUMBER_RULE,
        fold=_clip_fold),
    _op("Sigmoid", "sigmoid", _UNARY_OLD, 1, 1, _unary_shape, _sigmoid, _FLOAT_RULE),
    _op("Tanh", "tanh", _UNARY_OLD, 1, 1, _unary_shape, _tanh, _FLOAT_RULE),
    _op("Neg", "negative", _UNARY_OLD, 1, 1, _unary_shape, _unary(lambda x, zero, one, c: zero - x), same_dtype(SIGNED)),
    _op("Exp", "exp", _UNARY_OLD, 1, 1, _unary_shape, _unary(_call("exp")), _FLOAT_RULE),
    _op("Log", "log", _UNARY_OLD, 1, 1, _unary_shape, _unary(_call("log")), _FLOAT_RULE),
    _op("Sqrt", "sqrt", _UNARY_OLD, 1, 1, _unary_shape, _unary(_call("sqrt")), _FLOAT_RULE),
    _op("Abs", "abs", _UNARY_OLD, 1, 1, _unary_shape, _abs, _NUMBER_RULE),
    _op("Floor", "floor", _UNARY_OLD, 1, 1, _unary_shape, _unary(_call("floor")), _FLOAT_RULE),
    _op("Ceil", "ceil", _UNARY_OLD, 1, 1, _unary_shape, _unary(_call("ceil")), _FLOAT_RULE),
    _op("Reciprocal", "reciprocal", _UNARY_OLD, 1, 1, _unary_shape, _unary(lambda x, zero, one, c: one / x), _FLOAT_RULE),
    _op("Softplus", "softplus", {}, 1, 1, _unary_shape, _unary(lambda x, zero, one, c: ir.builtin("log", ir.builtin("exp", x) + one)), _FLOAT_RULE),
    _op("LeakyRelu", "nn_leaky_relu", {"alpha": 0.01, **_UNARY_OLD}, 1, 1, _unary_shape,
        _unary(lambda x, zero, one, c: ir.if_then_else(x < zero, x * c["alpha"], x)), _FLOAT_RULE),
    _op("Elu", "nn_elu", {"alpha": 1.0, **_UNARY_OLD}, 1, 1, _unary_shape,
        _unary(lambda x, zero, one, c: ir.if_then_else(x < zero, (ir.builtin("exp", x) - one) * c["alpha"], x)),
        _FLOAT_RULE),
    _op("Selu", "nn_selu", {"alpha": 1.6732632423543772, "gamma": 1.0507009873554805, **_UNARY_OLD}, 1, 1,
        _unary_shape,
        _unary(lambda x, zero, one, c: ir.if_then_else(x <= zero, (ir.builtin("exp", x) - one) * c["alpha"], x)
               * c["gamma"]), _FLOAT_RULE),
    _op("HardSigmoid", "hard_sigmoid", {"alpha": 0.2, "beta": 0.5, **_UNARY_OLD}, 1, 1, _unary_shape,
        _unary(lambda x, zero, one, c: ir.min_of(ir.max_of(x * c["alpha"] + c["beta"], zero), one)), _FLOAT_RULE),
    _op("PRelu", "nn_prelu", _UNARY_OLD, 2, 2, _prelu_shape, _prelu, _FLOAT_RULE),
    _op("Identity", "copy", {}, 1, 1, _unary_shape, _unary(lambda x, zero, one, c: x), same_dtype(CASTABLE)),
    OpDef("BatchNormalization", "nn_batch_norm", ELEMENTWISE,
          {"epsilon": 1e-5, "momentum": 0.9, "training_mode": 0, "is_test": 1, "spatial": 1, **_UNARY_OLD}, 5, 5,
          _bn_shape, _bn, fold=_bn_fold),
    _op("Cast", "cast", {"to": None, "saturate": 1}, 1, 1, _unary_shape, _cast, _cast_to),
    _op("CastLike", "cast", {"saturate": 1}, 2, 2, _unary_shape, _cast, _cast_to),
    _op("Equal", "equal", _BIN, 2, 2, _binary_shape, _binary("=="), _predicate(ANY)),
    _op("Less", "less", _BIN, 2, 2, _binary_shape, _binary("<"), _predicate(NUMBERS)),
    _op("LessOrEqual", "less_equal", {}, 2, 2, _binary_shape, _binary("<="), _predicate(NUMBERS)),
    _op("Greater", "greater", _BIN, 2, 2, _binary_shape, _binary(">"), _predicate(NUMBERS)),
    _op("GreaterOrEqual", "greater_equal", {}, 2, 2, _binary_shape, _binary(">="), _predicate(NUMBERS)),
    _op("And", "logical_and", _BIN, 2, 2, _binary_shape, _binary("And"), same_dtype(("bool",))),
    _op("Or", "logical_or", _BIN, 2, 2, _binary_shape, _binary("Or"), same_dtype(("bool",))),
    _op("Xor", "logical_xor", _BIN, 2, 2, _binary_shape, _binary("!="), same_dtype(("bool",))),
    _op("Not", "logical_not", {}, 1, 1, _unary_shape, _not, same_dtype(("bool",))),
    _op("Where", "where", {}, 3, 3, _nary_shape, _where, _where_dtype),
    _op("Sign", "sign", {}, 1, 1, _unary_shape, _sign, _NUMBER_RULE),
    _op("Mod", "mod", {"fmod": 0}, 2, 2, _binary_shape, _mod, _mod_dtype),
    _op("BitShift", "bitshift", {"direction": None}, 2, 2, _binary_shape, _bitshift,
        same_dtype(("uint8", "uint16", "uint32", "uint64"))),
    _op("Shrink", "shrink", {"lambd": 0.5, "bias": 0.0}, 1, 1, _unary_shape, _shrink, _FLOAT_RULE),
]
