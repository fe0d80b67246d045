"""The edges of the dtypes: integer arithmetic that overflows, floats converted to integers
out of range, and bfloat16 and float8 tensors. In C both are undefined (a signed overflow, an out-of-range
conversion); the generated C defines them as onnxruntime computes on x86-64: signed
arithmetic wraps (two's complement), INT_MIN / -1 is INT_MIN and INT_MIN % -1 is 0, and a
float out of an int32 / int64's range (or NaN) becomes the type's minimum (Pow, Cast), and
one out of a narrower or unsigned type's range what x86-64 code gives.

All models are compiled into ONE program with AddressSanitizer and UndefinedBehaviorSanitizer
(signed-integer-overflow is part of -fsanitize=undefined; float-cast-overflow is not, so it
is added) that stops at the first report, and compared bit for bit with onnxruntime, or with
the onnx package's evaluator where onnxruntime has no CPU kernel (integer Gemm) or differs:
onnxruntime sums integer reductions in double and saturates, the onnx evaluator (numpy)
wraps, as the C does; where onnxruntime traps (INT64_MIN / -1) the wrapped value is stated.
bfloat16 (``_bfloat16_cases``) and float8 (``_float8_cases``) are compared bit for bit too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ml_dtypes
import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, IR_VERSION, SANITIZE, reference, run_models
from onnx import helper, numpy_helper

N = helper.make_node
I32, I64 = np.iinfo(np.int32), np.iinfo(np.int64)


def _model(nodes: list, inputs: dict[str, np.ndarray], out: tuple[int, list[int] | None],
           inits: dict[str, np.ndarray] | None = None, opset: int = 14) -> onnx.ModelProto:
    """Inputs typed after the example arrays; the output ``y`` (ONNX element type, shape)."""
    g = helper.make_graph(
        nodes, "m",
        [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info("y", *out)],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION if opset < 21 else 10)
    onnx.checker.check_model(m, full_check=True)
    return m


def _i32(*v: int) -> np.ndarray:
    return np.array(v, np.int32)


def _i64(*v: int) -> np.ndarray:
    return np.array(v, np.int64)


# Operands that overflow every + - * of int32 / int64 (and the usual values in between).
_A32 = _i32(I32.max, I32.min, 65536, -7, I32.min, I32.max, 46341)
_B32 = _i32(1, -1, 65536, I32.max, I32.min, I32.max, 46341)
_A64 = _i64(I64.max, I64.min, 2**32, -7, I64.min, I64.max, 3037000500)
_B64 = _i64(1, -1, 2**32, I64.max, I64.min, I64.max, 3037000500)

# name -> (model, inputs, reference: "ort", "onnx" or the expected array)
Case = tuple[onnx.ModelProto, dict[str, np.ndarray], "str | np.ndarray"]


def _cases() -> dict[str, Case]:
    c: dict[str, Case] = {}

    def add(name: str, nodes: list, inputs: dict[str, np.ndarray], out: tuple[int, list[int] | None],
            ref: str | np.ndarray = "ort", inits: dict[str, np.ndarray] | None = None, opset: int = 14) -> None:
        c[name] = (_model(nodes, inputs, out, inits, opset), inputs, ref)

    for bits, a, b, t in ((32, _A32, _B32, 6), (64, _A64, _B64, 7)):
        for op in ("Add", "Sub", "Mul"):
            add(f"{op.lower()}_int{bits}_wraps", [N(op, ["a", "b"], ["y"])], {"a": a, "b": b}, (t, [7]))
        add(f"neg_abs_int{bits}_min", [N("Neg", ["a"], ["n"]), N("Abs", ["a"], ["m"]), N("Sub", ["n", "m"], ["y"])],
            {"a": a}, (t, [7]))
    # A fused chain: every step wraps, the Relu sees the wrapped value.
    add("int32_mul_add_relu_chain", [N("Mul", ["a", "b"], ["m"]), N("Add", ["m", "a"], ["s"]), N("Relu", ["s"], ["y"])],
        {"a": _A32, "b": _B32}, (6, [7]))
    # Broadcast constant operand (an initializer) in the arithmetic.
    add("int64_add_weight_wraps", [N("Add", ["a", "w"], ["y"])], {"a": _A64}, (7, [7]), inits={"w": _i64(I64.max)})
    add("div_int32_min_by_minus_one", [N("Div", ["a", "b"], ["y"])],
        {"a": _i32(I32.min, I32.min, 7, -7, I32.max), "b": _i32(-1, 1, -1, 2, -1)}, (6, [5]))
    # onnxruntime traps on INT64_MIN / -1 (SIGFPE): the stated value is the wrapped quotient.
    add("div_int64_min_by_minus_one", [N("Div", ["a", "b"], ["y"])],
        {"a": _i64(I64.min, I64.min, 7, -7), "b": _i64(-1, 1, -1, 2)}, (7, [4]), _i64(I64.min, I64.min, -7, -3))
    add("mod_int32_min_by_minus_one", [N("Mod", ["a", "b"], ["f"], fmod=0), N("Mod", ["a", "b"], ["t"], fmod=1),
                                       N("Add", ["f", "t"], ["y"])],
        {"a": _i32(I32.min, 7, -7, I32.min), "b": _i32(-1, -1, 3, 3)}, (6, [4]))
    add("mod_int64_min_by_minus_one", [N("Mod", ["a", "b"], ["f"], fmod=0), N("Mod", ["a", "b"], ["t"], fmod=1),
                                       N("Sub", ["f", "t"], ["y"])],
        {"a": _i64(I64.min, 7, -7, I64.min), "b": _i64(-1, -1, 3, 3)}, (7, [4]))
    add("uint16_mul_wraps", [N("Mul", ["a", "b"], ["y"])],
        {"a": np.array([65535, 300, 7], np.uint16), "b": np.array([65535, 300, 9], np.uint16)}, (4, [3]))
    # MatMul / Gemm: the sums of products wrap (the GEMM schedule's register tile and its
    # remainder columns: N = 9).
    big32 = np.full((2, 3, 5), I32.max, np.int32)
    big32[1, :, ::2] = I32.min
    add("matmul_int32_wraps", [N("MatMul", ["a", "b"], ["y"])],
        {"a": big32, "b": np.arange(-22, 23, dtype=np.int32).reshape(5, 9) * 46341}, (6, [2, 3, 9]))
    big64 = np.full((3, 4), I64.max, np.int64)
    big64[:, 1] = I64.min + 5
    add("matmul_int64_wraps", [N("MatMul", ["a", "b"], ["y"])],
        {"a": big64, "b": np.arange(-16, 16, dtype=np.int64).reshape(4, 8) * 3037000499}, (7, [3, 8]))
    # onnxruntime has no integer Gemm: the onnx evaluator (numpy's wrapping dot, then + C).
    add("gemm_int32_dot_wraps", [N("Gemm", ["a", "w", "c"], ["y"], transB=1)], {"a": np.full((1, 20), I32.max, np.int32)},
        (6, [1, 5]), "onnx", inits={"w": np.arange(100, dtype=np.int32).reshape(5, 20) * 1000,
                                    "c": _i32(1, -1, 1000, -1000, 0)})
    add("gemm_int32_wraps", [N("Gemm", ["a", "b"], ["y"], transA=1)],
        {"a": np.full((3, 9), I32.max, np.int32), "b": np.full((3, 10), 3, np.int32)}, (6, [9, 10]), "onnx")
    # Reductions wrap as numpy (onnxruntime accumulates in double and saturates instead).
    red = np.array([[I32.max, I32.max, 3, 4], [I32.min, -1, 0, 0], [I32.min, I32.min, I32.max, 9]], np.int32)
    add("reduce_sum_int32_wraps", [N("ReduceSum", ["a", "ax"], ["y"], keepdims=0)], {"a": red}, (6, [3]), "onnx",
        inits={"ax": _i64(1)}, opset=13)
    add("reduce_mean_int32_wraps", [N("ReduceMean", ["a"], ["y"], axes=[1], keepdims=0)], {"a": red}, (6, [3]), "onnx",
        opset=13)
    add("reduce_sum_int64_wraps", [N("ReduceSum", ["a", "ax"], ["y"], keepdims=0)],
        {"a": np.array([[2**62, 2**62, 2**62, 5], [I64.min, -1, 3, 0]], np.int64)}, (7, [2]), "onnx",
        inits={"ax": _i64(1)}, opset=13)
    # Pow of integers: computed in double, out of range (and NaN, inf) -> the minimum.
    add("pow_int32_out_of_range", [N("Pow", ["a", "b"], ["y"])],
        {"a": _i32(2, 3, -2, 10, 0, 2, -3, 5, -1, -2), "b": np.array([31, 40, 31, 100, -1, -1, 41, 0.5, 0.5, 33], np.float32)},
        (6, [10]))
    add("pow_int32_int_exponent", [N("Pow", ["a", "b"], ["y"])],
        {"a": _i32(2, 3, 0, -2, -2, -1, 7), "b": _i32(31, 40, -1, 31, 33, -3, 11)}, (6, [7]))
    add("pow_int64_out_of_range", [N("Pow", ["a", "b"], ["y"])],
        {"a": _i64(2, 3, 0, 2, -2, -2, 0, 3, 2), "b": _i64(63, 50, -1, 64, 63, -1, -5, 40, 62)}, (7, [9]))
    add("pow_int64_nan_inf_exponent", [N("Pow", ["a", "b"], ["y"])],
        {"a": _i64(2, 3, -2, 0, 5), "b": np.array([np.nan, np.inf, 0.5, -1, -np.inf], np.float64)}, (7, [5]))
    # Cast float -> int32 / int64 out of range: the minimum, as onnxruntime's static_cast.
    far = np.array([3e9, -3e9, np.nan, np.inf, -2147483648.0, 2147483520.0, -1.9, 2.5e19, -np.inf], np.float32)
    add("cast_float_to_int32_out_of_range", [N("Cast", ["a"], ["y"], to=6)], {"a": far}, (6, [9]))
    add("cast_double_to_int64_out_of_range", [N("Cast", ["a"], ["y"], to=7)], {"a": far.astype(np.float64) * 1e10},
        (7, [9]))
    # The narrower and unsigned integers: what x86-64 code makes of each (see tir_runtime.h).
    wide = np.array([300.7, -300.7, 70000.5, -70000, 3e9, -3e9, 5e9, 1e19, -1e19, np.nan, np.inf, -np.inf, 1e30, -1.5,
                     255.9, 2147483648.0, 9.3e18], np.float32)
    for t, name in ((3, "int8"), (2, "uint8"), (5, "int16"), (4, "uint16"), (12, "uint32"), (13, "uint64")):
        for src in (np.float32, np.float64):
            add(f"cast_{np.dtype(src).name}_to_{name}_out_of_range", [N("Cast", ["a"], ["y"], to=t)],
                {"a": wide.astype(src)}, (t, [len(wide)]))
    _bfloat16_cases(add)
    _float8_cases(add)
    return c


BF16 = ml_dtypes.bfloat16


def _bf(*shape: int, seed: int = 0, scale: float = 3.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(BF16)


def _bfloat16_cases(add: Callable[..., None]) -> None:
    """bfloat16 tensors: stored as uint16_t, computed in float, rounded to nearest even (NaN
    kept quiet) at every operator's output, as onnxruntime's Cast and numpy's ml_dtypes
    (the onnx evaluator's arithmetic) round. onnxruntime's CPU kernels for bfloat16 are Cast
    and data movement only; the arithmetic is compared with the onnx evaluator."""
    # Ties to even (1 + 2**-8 -> 1, 1 + 3 * 2**-8 -> 1 + 2**-6), NaN, infinities, overflow to
    # infinity, the largest finite value, subnormals, -0.
    edge = np.array([1.0, 1.00390625, 1.01171875, np.nan, -np.inf, 3.4e38, 3.3895e38, -0.0, 1e-40, -9.2e-41,
                     65504.0, 0.1], np.float32)
    add("bf16_cast_from_float", [N("Cast", ["a"], ["y"], to=16)], {"a": edge}, (16, [12]))
    add("bf16_cast_to_float_and_back", [N("Cast", ["a"], ["f"], to=1), N("Mul", ["f", "f"], ["m"]),
                                        N("Cast", ["m"], ["y"], to=16)], {"a": _bf(9)}, (16, [9]))
    add("bf16_cast_to_int32", [N("Cast", ["a"], ["y"], to=6)], {"a": _bf(9, scale=100.0)}, (6, [9]))
    add("bf16_cast_from_int64_float16", [N("Cast", ["a"], ["b"], to=16), N("Cast", ["h"], ["c"], to=16),
                                         N("Add", ["b", "c"], ["y"])],
        {"a": np.array([1, 257, -3000, 65535, 7], np.int64), "h": np.array([0.1, 1e-5, 3.5, -65504, 2], np.float16)},
        (16, [5]), "onnx")
    # Arithmetic fused into one function: each operator's output rounds, as the evaluator's.
    add("bf16_mul_add_sub_div_relu", [N("Mul", ["a", "b"], ["m"]), N("Add", ["m", "a"], ["s"]), N("Sub", ["s", "b"], ["d"]),
                                      N("Div", ["d", "b"], ["q"]), N("Relu", ["q"], ["y"])],
        {"a": _bf(3, 4), "b": _bf(4, seed=1)}, (16, [3, 4]), "onnx")
    add("bf16_neg_abs_max_weights", [N("Neg", ["a"], ["n"]), N("Max", ["n", "w"], ["m"]), N("Abs", ["m"], ["y"])],
        {"a": _bf(2, 5)}, (16, [2, 5]), "onnx", inits={"w": _bf(5, seed=2)})
    # MatMul / Gemm sum in float32 and round once (the evaluator's too).
    add("bf16_matmul", [N("MatMul", ["a", "b"], ["y"])], {"a": _bf(2, 3, 64, scale=1.0)}, (16, [2, 3, 9]), "onnx",
        inits={"b": _bf(64, 9, seed=3, scale=1.0)})
    # Gemm adds C before the one rounding, as float16's Gemm (the evaluator rounds the
    # product first, then the sum: one bfloat16 step apart at most); the expected values are
    # the exact sum, rounded once.
    a, gw, gc = _bf(4, 16, scale=1.0), _bf(6, 16, seed=4, scale=1.0), _bf(6, seed=5, scale=1.0)
    add("bf16_gemm_trans_b", [N("Gemm", ["a", "w", "c"], ["y"], transB=1)], {"a": a}, (16, [4, 6]),
        (a.astype(np.float64) @ gw.astype(np.float64).T + gc.astype(np.float64)).astype(np.float32).astype(BF16),
        inits={"w": gw, "c": gc})
    # Operators ONNX allows bfloat16 on from opset 22 (Conv, pools) or 13 (Sigmoid...),
    # which onnxruntime runs on float32 only: its float32 result on the same values, rounded
    # once to bfloat16 (what computing in float32 and storing bfloat16 gives).
    add("bf16_conv_pads", [N("Conv", ["x", "w"], ["y"], pads=[1, 0, 1, 1])], {"x": _bf(1, 3, 6, 6, scale=1.0)}, (16, [1, 4, 6, 5]),
        "float32", inits={"w": _bf(4, 3, 3, 3, seed=7, scale=1.0)}, opset=22)
    add("bf16_avgpool", [N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], {"x": _bf(1, 2, 6, 6)},
        (16, [1, 2, 6, 6]), "float32", opset=22)
    for op, kw, shape, out in (("GlobalAveragePool", {}, (1, 2, 6, 6), [1, 2, 1, 1]),
                               ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2]}, (1, 2, 7, 7), [1, 2, 3, 3]),
                               ("ReduceMean", {"axes": [1]}, (3, 50), [3, 1]), ("ReduceSum", {}, (3, 50), [1, 1]),
                               ("Sigmoid", {}, (20,), [20]), ("Exp", {}, (20,), [20]), ("Tanh", {}, (20,), [20])):
        add(f"bf16_{op.lower()}", [N(op, ["x"], ["y"], **kw)], {"x": _bf(*shape, seed=8)}, (16, out), "float32",
            opset=22 if "Pool" in op else 13)
    add("bf16_transpose_concat", [N("Transpose", ["a"], ["t"], perm=[1, 0]), N("Concat", ["t", "b"], ["y"], axis=0)],
        {"a": _bf(2, 3), "b": _bf(1, 2, seed=6)}, (16, [4, 2]))


FLOAT8 = {17: "float8_e4m3fn", 18: "float8_e4m3fnuz", 19: "float8_e5m2", 20: "float8_e5m2fnuz"}


def _all_codes(t: int) -> np.ndarray:
    """Every value of float8 type ``t``, NaNs included, as that type."""
    return np.arange(256, dtype=np.uint8).view(getattr(ml_dtypes, FLOAT8[t]))


def _float8_inputs(t: int) -> np.ndarray:
    """float32 values for a conversion to float8 ``t``: the special ones, every value of the
    type, every midpoint between neighbours (ties to even), the values just beside them,
    and random magnitudes from far below the smallest subnormal to far above the largest."""
    finite = np.unique(np.abs(_all_codes(t).astype(np.float32)[np.isfinite(_all_codes(t).astype(np.float32))]))
    mid = (finite[:-1] + finite[1:]) / 2
    beside = np.concatenate([np.nextafter(mid, np.float32(np.inf)), np.nextafter(mid, np.float32(0))])
    top = finite[-1]
    far = [np.nan, np.inf, 1e6, 3.0e38, top, top * 1.03, top * 1.07, top * 1.2, 1e-30, 1e-45, 0.0]
    rng = np.random.default_rng(t)
    rand = 10.0 ** rng.uniform(-12, 6, 200)
    pos = np.concatenate([far, finite, mid, beside, rand]).astype(np.float32)
    return np.concatenate([pos, -pos])


def _float8_cases(add: Callable[..., None]) -> None:
    """float8 tensors (opset 21): Cast to each type from float32 with saturate=1 and 0 and
    back, Cast between float8 types and from / to float16, bfloat16 and int32, data movement
    (every code, NaNs included, copied bit for bit) and weights; compared bit for bit with the
    onnx evaluator (onnxruntime's CPU float8 kernels are few)."""
    for t, name in FLOAT8.items():
        x = _float8_inputs(t)
        # float64: the nearest float8 of the double itself, also a hair beside a tie (where
        # rounding through float32 first would land on the tie).
        finite = x[np.isfinite(x)].astype(np.float64)
        x64 = np.concatenate([x.astype(np.float64), finite * (1 + 2**-40), finite * (1 - 2**-40), [1e300, -1e-300]])
        for sat in (1, 0):
            add(f"{name}_from_float32_saturate{sat}", [N("Cast", ["a"], ["y"], to=t, saturate=sat)], {"a": x},
                (t, [len(x)]), "onnx", opset=21)
            add(f"{name}_from_float64_saturate{sat}", [N("Cast", ["a"], ["y"], to=t, saturate=sat)], {"a": x64},
                (t, [len(x64)]), "onnx", opset=21)
        add(f"{name}_to_float32", [N("Cast", ["a"], ["y"], to=1)], {"a": _all_codes(t)}, (1, [256]), "onnx", opset=21)
        add(f"{name}_transpose_reshape", [N("Transpose", ["a"], ["t"], perm=[1, 0]), N("Reshape", ["t", "s"], ["y"])],
            {"a": _all_codes(t).reshape(16, 16)}, (t, [8, 32]), "onnx", inits={"s": _i64(8, 32)}, opset=21)
    add("float8_e5m2_to_e4m3fn_saturate", [N("Cast", ["a"], ["y"], to=17)], {"a": _all_codes(19)}, (17, [256]), "onnx",
        opset=21)
    add("float8_e4m3fnuz_to_e5m2fnuz_no_saturate", [N("Cast", ["a"], ["y"], to=20, saturate=0)], {"a": _all_codes(18)},
        (20, [256]), "onnx", opset=21)
    add("float8_e4m3fn_to_float16_bfloat16", [N("Cast", ["a"], ["h"], to=10), N("Cast", ["a"], ["b"], to=16),
                                              N("Cast", ["h"], ["hb"], to=16), N("Sub", ["b", "hb"], ["y"])],
        {"a": _all_codes(17)}, (16, [256]), "onnx", opset=21)
    finite = _all_codes(18)[~np.isnan(_all_codes(18).astype(np.float32))]
    add("float8_e4m3fnuz_to_int32", [N("Cast", ["a"], ["y"], to=6)], {"a": finite}, (6, [len(finite)]), "onnx", opset=21)
    add("float8_from_int32_float16", [N("Cast", ["i"], ["a"], to=19), N("Cast", ["h"], ["b"], to=17),
                                      N("Cast", ["a"], ["fa"], to=1), N("Cast", ["b"], ["fb"], to=1), N("Add", ["fa", "fb"], ["y"])],
        {"i": _i32(0, 1, -3, 100, 1000, 70000, -70000, 57343, 61440),
         "h": np.array([0.1, 465, -500, np.inf, 1e-4, 3.5, -0.0, 240, np.nan], np.float16)}, (1, [9]), "onnx", opset=21)
    # A Cast of a constant folds at import, saturating as the C would.
    add("float8_folded_constant_casts", [N("Cast", ["c"], ["s"], to=17), N("Cast", ["c"], ["n"], to=19, saturate=0),
                                         N("Cast", ["s"], ["fs"], to=1), N("Cast", ["n"], ["fn"], to=1),
                                         N("Add", ["fs", "fn"], ["f"]), N("Add", ["a", "f"], ["y"])],
        {"a": _r32(6)}, (1, [6]), "onnx", inits={"c": np.array([1000, -1e9, np.nan, 3.3, -465, 1e5], np.float32)}, opset=21)
    add("float8_weights", [N("Cast", ["w"], ["f"], to=1), N("Mul", ["a", "f"], ["y"])], {"a": _r32(2, 16)}, (1, [2, 16]),
        "onnx", inits={"w": _all_codes(17)[:32].reshape(2, 16)}, opset=21)


def _r32(*shape: int) -> np.ndarray:
    return np.random.default_rng(9).standard_normal(shape).astype(np.float32)


CASES = _cases()
_FLAGS = [*SANITIZE, "-fsanitize=float-cast-overflow"]


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    models = {n: (m, x) for n, (m, x, _) in CASES.items()}
    return run_models(models, Path(tmp_path_factory.mktemp("edges")), cflags=_FLAGS)


def _reference(name: str) -> np.ndarray:
    model, inputs, ref = CASES[name]
    if isinstance(ref, np.ndarray):
        return ref
    if ref == "onnx":
        from onnx.reference import ReferenceEvaluator

        return np.asarray(ReferenceEvaluator(model).run(None, inputs)[0])
    if ref == "float32":
        return reference(_as_float32(model), {k: v.astype(np.float32) for k, v in inputs.items()})["y"].astype(BF16)
    if any(np.dtype(v.dtype).name in _ML_DTYPES for v in inputs.values()) or _out_type(model) in _ML_TYPES:
        return _ort_bits(model, inputs)
    return reference(model, inputs)["y"]


# The dtypes numpy has through ml_dtypes, by ONNX element type: onnxruntime's Python API
# takes and gives them only as OrtValues of their bits.
_ML_TYPES = {16: "bfloat16"}
_ML_DTYPES = set(_ML_TYPES.values())


def _as_float32(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with every bfloat16 input, output and weight made float32 (same values)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for vi in [*m.graph.input, *m.graph.output]:
        if vi.type.tensor_type.elem_type == 16:
            vi.type.tensor_type.elem_type = 1
    for k, init in enumerate(m.graph.initializer):
        if init.data_type == 16:
            m.graph.initializer[k].CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float32), init.name))
    return m


def _out_type(model: onnx.ModelProto) -> int:
    return int(model.graph.output[0].type.tensor_type.elem_type)


def _ort_bits(model: onnx.ModelProto, inputs: dict[str, np.ndarray]) -> np.ndarray:
    """onnxruntime's output ``y`` for inputs and an output that may be ml_dtypes types."""
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    bind = sess.io_binding()
    for k, v in inputs.items():
        t = helper.np_dtype_to_tensor_dtype(v.dtype)
        bits = v.view(f"u{v.itemsize}") if t in _ML_TYPES else v
        bind.bind_ortvalue_input(k, ort.OrtValue.ortvalue_from_numpy_with_onnx_type(np.ascontiguousarray(bits), t))
    t = _out_type(model)
    dims = [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim]
    dtype = np.dtype(getattr(ml_dtypes, _ML_TYPES[t])) if t in _ML_TYPES else helper.tensor_dtype_to_np_dtype(t)
    out = np.zeros(dims, f"u{dtype.itemsize}")
    bind.bind_ortvalue_output("y", ort.OrtValue.ortvalue_from_numpy_with_onnx_type(out, t))
    sess.run_with_iobinding(bind)
    return out.view(dtype)


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # the evaluator's float64 -> float8
@pytest.mark.parametrize("name", list(CASES))
def test_bit_exact(name: str, results: dict[str, dict[str, np.ndarray]]) -> None:
    want = _reference(name)
    got = results[name]["y"]
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype in (np.float16, np.float32, np.float64):
        # A NaN is a NaN: its sign and payload are not specified (as a float32 from a
        # float8 NaN); every other value bit for bit.
        nan = np.isnan(want)
        np.testing.assert_array_equal(np.isnan(got), nan)
        got, want = got[~nan], want[~nan]
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def test_the_cases_do_overflow() -> None:
    """The inputs really leave the range (else the sanitizer would have nothing to catch)."""
    for a, b, info in ((_A32, _B32, I32), (_A64, _B64, I64)):
        exact = [int(x) * int(y) for x, y in zip(a, b)] + [int(x) + int(y) for x, y in zip(a, b)]
        assert any(not info.min <= v <= info.max for v in exact)


def test_linked_bfloat16_and_float8_weights(tmp_path: Path) -> None:
    """With link-params the bfloat16 and float8 weights are compiled in as their bits."""
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    models = {n: CASES[n][:2] for n in ("bf16_neg_abs_max_weights", "float8_weights")}
    got = run_models(models, tmp_path, cflags=["-O1"], link_params=True)
    for name in models:
        want = _reference(name)
        np.testing.assert_array_equal(got[name]["y"].view(f"u{want.itemsize}"), want.view(f"u{want.itemsize}"))


@pytest.mark.parametrize(("name", "dtype", "ctype", "nbytes"), [("bf16_matmul", "bfloat16", "uint16_t", 768),
                                                                ("float8_e5m2_transpose_reshape", "float8_e5m2", "uint8_t", 256)])
def test_small_floats_reach_the_header_graph_json_and_metadata(name: str, dtype: str, ctype: str, nbytes: int) -> None:
    from tir_lsp.compiler.executor.aot import build_aot
    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.c_interface import interface_header
    from tir_lsp.compiler.executor.mlf import metadata
    from tir_lsp.compiler.executor.options import resolve
    from tir_lsp.compiler.frontend.onnx_import import import_onnx

    model = CASES[name][0]
    p = build_aot(import_onnx(model), resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True},
                                              model_name="b"))
    h = interface_header(p)
    assert f"struct tvmgen_b_inputs {{\n  {ctype}* a;  /* {dtype} bits */\n}};" in h
    assert f"#define TVMGEN_B_A_SIZE {nbytes}" in h
    c = compile_model(model, resolve({"executor": "graph"}, model_name="g"))
    # The input, the weight, the output (bfloat16's MatMul has float32 scratch between).
    dltype = c.program.json["attrs"]["dltype"][1]  # type: ignore[index]
    assert dltype[:2] == [dtype, dtype] and dltype[-1] == dtype and set(dltype[2:-1]) <= {"float32"}
    meta = metadata(c)
    assert [(t["name"], t["dtype"], t["size_bytes"]) for t in meta["inputs"]] == [("a", dtype, nbytes)]


def test_small_floats_dlpack_codes() -> None:
    """DLPack 1.1's type codes (kDLBfloat, kDLFloat8_e4m3fn...)."""
    from tir_lsp.compiler.executor.c_interface import dl_dtype

    assert [dl_dtype(d) for d in FLOAT8.values()] == ["{10, 8, 1}", "{11, 8, 1}", "{12, 8, 1}", "{13, 8, 1}"]
    assert dl_dtype("bfloat16") == "{4, 16, 1}"
