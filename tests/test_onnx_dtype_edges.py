"""The edges of the integer dtypes: arithmetic that overflows, and floats converted to
integers out of range. In C both are undefined (a signed overflow, an out-of-range
conversion); the generated C defines them as onnxruntime computes on x86-64: signed
arithmetic wraps (two's complement), INT_MIN / -1 is INT_MIN and INT_MIN % -1 is 0, and a
float out of an int32 / int64's range (or NaN) becomes the type's minimum (Pow, Cast).

All models are compiled into ONE program with AddressSanitizer and UndefinedBehaviorSanitizer
(signed-integer-overflow is part of -fsanitize=undefined; float-cast-overflow is not, so it
is added) that stops at the first report, and compared bit for bit with onnxruntime, or with
the onnx package's evaluator where onnxruntime has no CPU kernel (integer Gemm) or differs:
onnxruntime sums integer reductions in double and saturates, the onnx evaluator (numpy)
wraps, as the C does; where onnxruntime traps (INT64_MIN / -1) the wrapped value is stated.
"""

from __future__ import annotations

from pathlib import Path

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
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
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
    return c


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
    return reference(model, inputs)["y"]


@pytest.mark.parametrize("name", list(CASES))
def test_bit_exact(name: str, results: dict[str, dict[str, np.ndarray]]) -> None:
    want = _reference(name)
    got = results[name]["y"]
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(f"u{got.itemsize}"), want.view(f"u{want.itemsize}"))


def test_the_cases_do_overflow() -> None:
    """The inputs really leave the range (else the sanitizer would have nothing to catch)."""
    for a, b, info in ((_A32, _B32, I32), (_A64, _B64, I64)):
        exact = [int(x) * int(y) for x, y in zip(a, b)] + [int(x) + int(y) for x, y in zip(a, b)]
        assert any(not info.min <= v <= info.max for v in exact)
