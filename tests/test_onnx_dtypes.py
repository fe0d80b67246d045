"""Tensors of other element types than float32 (int8/uint8/int32/int64, bool, float16,
float64) and Gather at run-time indices, each in a one-operator (or two) model made with
onnx.helper, compared with onnxruntime. All models are compiled into ONE program with
AddressSanitizer and UndefinedBehaviorSanitizer (one gcc call) and run once.

Tolerances: integer and bool outputs exactly; float16 within 1e-3 relative (each float16
operation rounds to 11 bits, computed in float as onnxruntime does; Conv, Gemm, MatMul and
the average pools sum in float32 and round once, as onnxruntime, so they differ from it by at
most one float16 step from the order of the sum); float32 1e-5; float64 1e-12. Also: the dtype reaches the C header, graph.json and the archive's metadata, and
unsupported dtypes are listed in one report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, IR_VERSION, reference, run_models
from onnx import helper, numpy_helper

from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.frontend.onnx_import import import_onnx

N = helper.make_node
_TYPES = {np.dtype(k): v for k, v in {np.float32: 1, np.uint8: 2, np.int8: 3, np.int32: 6, np.int64: 7, np.bool_: 9,
                                       np.float16: 10, np.float64: 11, np.uint32: 12, np.uint64: 13}.items()}


def _model(nodes: list, inputs: dict[str, np.ndarray], outputs: dict[str, tuple[type, list[int]]],
           inits: dict[str, np.ndarray] | None = None, opset: int = 14) -> onnx.ModelProto:
    """Inputs typed after the example arrays; outputs (dtype, shape) as given."""
    g = helper.make_graph(
        nodes, "m", [helper.make_tensor_value_info(k, _TYPES[v.dtype], v.shape) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, _TYPES[np.dtype(t)], s) for k, (t, s) in outputs.items()],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    onnx.checker.check_model(m, full_check=True)
    return m


def _r(dtype: type, *shape: int, lo: int = -20, hi: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return (rng.standard_normal(shape) * 2).astype(dtype)
    if dtype is np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    return rng.integers(max(lo, np.iinfo(dtype).min), min(hi, np.iinfo(dtype).max), shape).astype(dtype)


def _cases() -> dict[str, tuple[onnx.ModelProto, dict[str, np.ndarray]]]:
    c: dict[str, tuple[onnx.ModelProto, dict[str, np.ndarray]]] = {}

    def add(name: str, nodes: list, inputs: dict[str, np.ndarray], out: tuple[type, list[int]],
            inits: dict[str, np.ndarray] | None = None, opset: int = 14) -> None:
        c[name] = (_model(nodes, inputs, {"y": out}, inits, opset), inputs)

    # Integer arithmetic: broadcasting, truncating division, Relu/Neg/Abs/Clip/Max, Sign.
    add("int32_add_relu", [N("Add", ["a", "b"], ["s"]), N("Relu", ["s"], ["y"])],
        {"a": _r(np.int32, 3, 4), "b": _r(np.int32, 4, seed=1)}, (np.int32, [3, 4]))
    add("int32_div_trunc", [N("Div", ["a", "b"], ["y"])],
        {"a": np.array([7, -7, 7, -7, 0, 9], np.int32), "b": np.array([2, 2, -2, -2, 5, 3], np.int32)}, (np.int32, [6]))
    add("int8_mul_sub", [N("Mul", ["a", "b"], ["m"]), N("Sub", ["m", "b"], ["y"])],
        {"a": _r(np.int8, 2, 5, lo=-5, hi=5), "b": _r(np.int8, 2, 5, lo=-5, hi=5, seed=2)}, (np.int8, [2, 5]))
    add("uint8_add_max", [N("Add", ["a", "b"], ["s"]), N("Max", ["s", "a"], ["y"])],
        {"a": _r(np.uint8, 4, 3, lo=0, hi=100), "b": _r(np.uint8, 4, 3, lo=0, hi=100, seed=3)}, (np.uint8, [4, 3]))
    add("int64_neg_abs_clip", [N("Neg", ["a"], ["n"]), N("Abs", ["n"], ["b"]), N("Clip", ["b", "lo", "hi"], ["y"])],
        {"a": np.array([-5, 3, 0, 2**40, -7], np.int64)}, (np.int64, [5]),
        {"lo": np.array(1, np.int64), "hi": np.array(2**35, np.int64)})
    add("int32_mod_floor_and_trunc", [N("Mod", ["a", "b"], ["f"]), N("Mod", ["a", "b"], ["t"], fmod=1), N("Sub", ["f", "t"], ["y"])],
        {"a": np.array([7, -7, 7, -7, 0, 9], np.int32), "b": np.array([3, 3, -3, -3, 5, 4], np.int32)}, (np.int32, [6]))
    add("float_mod_fmod", [N("Mod", ["a", "b"], ["y"], fmod=1)],
        {"a": np.array([7.5, -7.5, 2.0], np.float32), "b": np.array([2.0, 2.0, -0.75], np.float32)}, (np.float32, [3]))
    add("uint8_bitshift", [N("BitShift", ["a", "b"], ["l"], direction="LEFT"), N("BitShift", ["l", "b"], ["y"], direction="RIGHT")],
        {"a": np.array([1, 255, 7, 9], np.uint8), "b": np.array([1, 4, 0, 3], np.uint8)}, (np.uint8, [4]))
    add("int32_sign_min", [N("Sign", ["a"], ["s"]), N("Min", ["s", "a"], ["y"])], {"a": _r(np.int32, 7)}, (np.int32, [7]))
    # float16 and float64: arithmetic and activations in their own precision.
    add("float16_mul_sigmoid", [N("Mul", ["a", "b"], ["m"]), N("Sigmoid", ["m"], ["y"])],
        {"a": _r(np.float16, 2, 6), "b": _r(np.float16, 6, seed=4)}, (np.float16, [2, 6]))
    add("float16_exp_div_pad", [N("Exp", ["a"], ["e"]), N("Div", ["e", "a"], ["d"]), N("Pad", ["d", "p", "v"], ["y"])],
        {"a": _r(np.float16, 3, 4)}, (np.float16, [4, 6]),
        {"p": np.array([0, 1, 1, 1], np.int64), "v": np.array(2.5, np.float16)})
    add("float64_tanh_sub", [N("Tanh", ["a"], ["t"]), N("Sub", ["t", "a"], ["y"])], {"a": _r(np.float64, 5, 3)},
        (np.float64, [5, 3]))
    # Cast between every class, comparisons, logic and Where.
    add("cast_float_to_int32", [N("Cast", ["a"], ["y"], to=6)],
        {"a": np.array([1.9, -1.9, 0.5, -0.5, 100.7, -3.0], np.float32)}, (np.int32, [6]))
    add("cast_int64_to_float16", [N("Cast", ["a"], ["y"], to=10)], {"a": _r(np.int64, 6, lo=-3000, hi=3000)},
        (np.float16, [6]))
    add("cast_float16_to_float64", [N("Cast", ["a"], ["y"], to=11)], {"a": _r(np.float16, 2, 3)}, (np.float64, [2, 3]))
    add("cast_float_to_bool_to_uint8", [N("Cast", ["a"], ["b"], to=9), N("Cast", ["b"], ["y"], to=2)],
        {"a": np.array([0.0, -0.0, 2.0, -1e-30, 7.0], np.float32)}, (np.uint8, [5]))
    add("castlike_int8", [N("CastLike", ["a", "like"], ["y"])],
        {"a": np.array([1.0, -100.0, 50.0], np.float32), "like": np.zeros(1, np.int8)}, (np.int8, [3]), opset=15)
    add("less_where_int64", [N("Less", ["a", "b"], ["c"]), N("Where", ["c", "a", "b"], ["y"])],
        {"a": _r(np.int64, 3, 4), "b": _r(np.int64, 4, seed=5)}, (np.int64, [3, 4]))
    add("equal_not_and_or_xor", [N("Equal", ["a", "b"], ["e"]), N("Not", ["e"], ["n"]), N("And", ["n", "p"], ["x1"]),
                                 N("Or", ["x1", "q"], ["x2"]), N("Xor", ["x2", "p"], ["y"])],
        {"a": _r(np.int32, 8, lo=0, hi=3), "b": _r(np.int32, 8, lo=0, hi=3, seed=6), "p": _r(np.bool_, 8, seed=7),
         "q": _r(np.bool_, 8, seed=8)}, (np.bool_, [8]))
    add("greater_equal_float16", [N("GreaterOrEqual", ["a", "b"], ["y"])],
        {"a": _r(np.float16, 2, 3), "b": _r(np.float16, 2, 3, seed=9)}, (np.bool_, [2, 3]), opset=16)
    # Data movement keeps the dtype.
    add("uint8_transpose_concat", [N("Transpose", ["a"], ["t"], perm=[1, 0]), N("Concat", ["t", "b"], ["y"], axis=0)],
        {"a": _r(np.uint8, 2, 3, lo=0, hi=255), "b": _r(np.uint8, 1, 2, lo=0, hi=255)}, (np.uint8, [4, 2]))
    add("bool_reshape_slice", [N("Reshape", ["a", "s"], ["r"]), N("Slice", ["r", "st", "en"], ["y"])],
        {"a": _r(np.bool_, 12)}, (np.bool_, [2, 4]),
        {"s": np.array([3, 4], np.int64), "st": np.array([1], np.int64), "en": np.array([3], np.int64)})
    add("int64_pad_expand", [N("Pad", ["a", "p", "v"], ["b"]), N("Expand", ["b", "s"], ["y"])],
        {"a": _r(np.int64, 1, 3)}, (np.int64, [2, 5]),
        {"p": np.array([0, 1, 0, 1], np.int64), "v": np.array(-9, np.int64), "s": np.array([2, 1], np.int64)})
    # Reductions on integers and float16 (accumulated in float32); ArgMax / ArgMin.
    add("int64_reduce_sum_max", [N("ReduceSum", ["a", "ax"], ["s"], keepdims=0), N("ReduceMax", ["s"], ["y"], axes=[0])],
        {"a": _r(np.int64, 3, 4, 2, lo=-2**40, hi=2**40)}, (np.int64, [1, 2]), {"ax": np.array([1], np.int64)}, opset=13)
    add("float16_reduce_mean", [N("ReduceMean", ["a"], ["y"], axes=[1])], {"a": _r(np.float16, 2, 50)}, (np.float16, [2, 1]),
        opset=13)
    add("argmax_int32_ties", [N("ArgMax", ["a"], ["y"], axis=1, keepdims=0)],
        {"a": np.array([[1, 5, 5, 2], [-3, -3, -4, -9], [0, 0, 0, 0]], np.int32)}, (np.int64, [3]), opset=13)
    add("argmin_float16_last", [N("ArgMin", ["a"], ["y"], axis=0, select_last_index=1)],
        {"a": np.array([[1, 2, 0.5], [1, -1, 0.5]], np.float16)}, (np.int64, [1, 3]), opset=13)
    add("argmax_float_all", [N("ArgMax", ["a"], ["y"], axis=-1)], {"a": _r(np.float32, 7)}, (np.int64, [1]), opset=13)
    # Weights of every class (the parameter blob, and compiled-in with link-params).
    add("weights_int64_bool_float16", [N("Add", ["a", "w"], ["s"]), N("Cast", ["s"], ["h"], to=10), N("Mul", ["h", "wh"], ["m"]),
                                      N("Cast", ["m"], ["b"], to=9), N("And", ["b", "wb"], ["y"])],
        {"a": _r(np.int64, 2, 3)}, (np.bool_, [2, 3]),
        {"w": _r(np.int64, 3, seed=11), "wh": _r(np.float16, 2, 3, seed=12), "wb": _r(np.bool_, 2, 3, seed=13)})
    # Gather and GatherElements at run-time indices: int64 and int32, negative, any axis, and
    # indices computed by the model.
    add("gather_int64_axis0", [N("Gather", ["x", "i"], ["y"])],
        {"x": _r(np.float32, 5, 3), "i": np.array([[4, -1], [0, -5]], np.int64)}, (np.float32, [2, 2, 3]))
    add("gather_int32_axis1", [N("Gather", ["x", "i"], ["y"], axis=1)],
        {"x": _r(np.int64, 2, 6, 2), "i": np.array([5, -2, 0], np.int32)}, (np.int64, [2, 3, 2]))
    add("gather_float16_last_axis", [N("Gather", ["x", "i"], ["y"], axis=-1)],
        {"x": _r(np.float16, 3, 4), "i": np.array([3, 3, -4], np.int64)}, (np.float16, [3, 3]))
    add("gather_computed_indices", [N("Cast", ["f"], ["i"], to=7), N("Gather", ["x", "i"], ["y"])],
        {"x": _r(np.float32, 6, 2), "f": np.array([2.7, -1.2, 5.0], np.float32)}, (np.float32, [3, 2]))
    add("gather_embedding_table", [N("Gather", ["w", "i"], ["y"])], {"i": np.array([[1, 7], [0, 3]], np.int64)},
        (np.float32, [2, 2, 4]), {"w": _r(np.float32, 8, 4, seed=10)})
    add("gather_elements", [N("GatherElements", ["x", "i"], ["y"], axis=1)],
        {"x": _r(np.int32, 3, 4), "i": np.array([[0, -1], [3, 2], [-4, 1]], np.int64)}, (np.int32, [3, 2]), opset=13)
    _nn_cases(add)
    return c


def _nn_cases(add: Callable[..., None]) -> None:
    """Conv, Gemm, MatMul, pooling, ReduceMean and Pow on every dtype ONNX allows them.
    float16 accumulates in float32 and rounds once, as onnxruntime does (so long sums stay
    within the float16 tolerance); integers accumulate in their own dtype and wrap (the
    uint32 case here; signed overflow in test_onnx_dtype_edges)."""
    # Conv: float16 through the im2col + GEMM schedule and the depthwise loop nest (both
    # padded at the end only) and the plain loop nest, float64 through im2col and the plain
    # 1-D loop nest.
    add("conv_float16_im2col_bias", [N("Conv", ["x", "w", "b"], ["y"], pads=[1, 0, 1, 1])],
        {"x": _r(np.float16, 1, 3, 7, 7)}, (np.float16, [1, 4, 7, 6]),
        {"w": _r(np.float16, 4, 3, 3, 3, seed=20), "b": _r(np.float16, 4, seed=21)})
    add("conv_float16_depthwise", [N("Conv", ["x", "w"], ["y"], group=3, pads=[0, 0, 1, 1])],
        {"x": _r(np.float16, 1, 3, 6, 6)}, (np.float16, [1, 3, 6, 6]), {"w": _r(np.float16, 3, 1, 2, 2, seed=22)})
    add("conv_float16_1d_unpadded", [N("Conv", ["x", "w"], ["y"], dilations=[2])],
        {"x": _r(np.float16, 2, 3, 12)}, (np.float16, [2, 4, 8]), {"w": _r(np.float16, 4, 3, 3, seed=36)})
    add("conv_float64_im2col_stride", [N("Conv", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 1, 1, 1])],
        {"x": _r(np.float64, 2, 2, 7, 7)}, (np.float64, [2, 5, 4, 4]),
        {"w": _r(np.float64, 5, 2, 3, 3, seed=23), "b": _r(np.float64, 5, seed=24)})
    add("conv_float64_1d", [N("Conv", ["x", "w"], ["y"], pads=[1, 2])],
        {"x": _r(np.float64, 1, 2, 9)}, (np.float64, [1, 3, 10]), {"w": _r(np.float64, 3, 2, 3, seed=25)})
    # MatMul: batched, each allowed dtype; float16 with a long sum (K = 600).
    for dt, lo, hi in ((np.int32, -50, 50), (np.int64, -2**20, 2**20), (np.uint64, 0, 2**20), (np.float64, 0, 0)):
        add(f"matmul_{np.dtype(dt).name}_batch", [N("MatMul", ["a", "b"], ["y"])],
            {"a": _r(dt, 2, 3, 5, lo=lo, hi=hi), "b": _r(dt, 5, 9, lo=lo, hi=hi, seed=26)}, (dt, [2, 3, 9]))
    add("matmul_uint32_wraps", [N("MatMul", ["a", "b"], ["y"])],
        {"a": np.array([[4_000_000_000, 3, 7]], np.uint32), "b": np.array([[3], [4_000_000_000], [5]], np.uint32)},
        (np.uint32, [1, 1]))
    add("matmul_float16_long_sum", [N("MatMul", ["a", "b"], ["y"])],
        {"a": _r(np.float16, 3, 600), "b": _r(np.float16, 600, 9, seed=27)}, (np.float16, [3, 9]))
    # Gemm: the dense dot kernel (one row, transB) and the GEMM, alpha / beta / C.
    add("gemm_float16_dot", [N("Gemm", ["a", "w", "c"], ["y"], transB=1, alpha=0.5, beta=2.0)],
        {"a": _r(np.float16, 1, 40)}, (np.float16, [1, 6]), {"w": _r(np.float16, 6, 40, seed=28), "c": _r(np.float16, 6, seed=29)})
    add("gemm_float64_trans_a", [N("Gemm", ["a", "b", "c"], ["y"], transA=1, beta=0.25)],
        {"a": _r(np.float64, 4, 10), "b": _r(np.float64, 4, 11, seed=30)}, (np.float64, [10, 11]),
        {"c": _r(np.float64, 10, 1, seed=31)})
    add("gemm_int32_alpha_beta", [N("Gemm", ["a", "b", "c"], ["y"], transA=1, alpha=2.0, beta=3.0)],
        {"a": _r(np.int32, 3, 9), "b": _r(np.int32, 3, 10, seed=32)}, (np.int32, [9, 10]), {"c": _r(np.int32, 10, seed=33)})
    add("gemm_int64_dot", [N("Gemm", ["a", "w"], ["y"], transB=1)],
        {"a": _r(np.int64, 1, 20, lo=-2**30, hi=2**30)}, (np.int64, [1, 5]), {"w": _r(np.int64, 5, 20, seed=34)})
    add("gemm_uint32", [N("Gemm", ["a", "b"], ["y"])],
        {"a": _r(np.uint32, 9, 4, lo=0, hi=1000), "b": _r(np.uint32, 4, 3, lo=0, hi=1000, seed=35)}, (np.uint32, [9, 3]))
    # Pooling: end-only pads and ceil_mode (the guarded windows), every dtype allowed.
    for dt in (np.int8, np.uint8, np.float16, np.float64):
        add(f"maxpool_{np.dtype(dt).name}", [N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                                                 pads=[0, 0, 1, 1], ceil_mode=1)],
            {"x": _r(dt, 1, 2, 9, 9, lo=-128, hi=127) if dt != np.uint8 else _r(dt, 1, 2, 9, 9, lo=0, hi=255)},
            (dt, [1, 2, 5, 5]))
    add("avgpool_float16_pads", [N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 1])],
        {"x": _r(np.float16, 1, 2, 8, 8)}, (np.float16, [1, 2, 4, 4]))
    add("avgpool_float16_valid", [N("AveragePool", ["x"], ["y"], kernel_shape=[2, 3])],
        {"x": _r(np.float16, 1, 2, 5, 6)}, (np.float16, [1, 2, 4, 4]))
    add("avgpool_float64_include_pad", [N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], pads=[0, 1, 1, 1],
                                          count_include_pad=1)],
        {"x": _r(np.float64, 1, 2, 6, 6)}, (np.float64, [1, 2, 5, 6]))
    add("global_avg_float16", [N("GlobalAveragePool", ["x"], ["y"])], {"x": _r(np.float16, 1, 3, 40, 40)},
        (np.float16, [1, 3, 1, 1]))
    add("global_avg_float64", [N("GlobalAveragePool", ["x"], ["y"])], {"x": _r(np.float64, 2, 3, 5, 4)},
        (np.float64, [2, 3, 1, 1]))
    add("global_max_float16", [N("GlobalMaxPool", ["x"], ["y"])], {"x": _r(np.float16, 1, 3, 5, 4)},
        (np.float16, [1, 3, 1, 1]))
    add("global_max_float64", [N("GlobalMaxPool", ["x"], ["y"])], {"x": -np.abs(_r(np.float64, 2, 3, 4, 3))},
        (np.float64, [2, 3, 1, 1]))
    # ReduceMean on integers: the sum divided with truncation toward zero.
    add("reduce_mean_int32_trunc", [N("ReduceMean", ["a"], ["y"], axes=[1], keepdims=0)],
        {"a": np.array([[-7, 0, 0], [7, 1, 0], [-1, -1, 0], [5, 5, 5]], np.int32)}, (np.int32, [4]), opset=13)
    add("reduce_mean_int64", [N("ReduceMean", ["a", "ax"], ["y"])], {"a": _r(np.int64, 3, 4, 5, lo=-2**40, hi=2**40)},
        (np.int64, [1, 4, 1]), {"ax": np.array([0, 2], np.int64)}, opset=18)
    # Pow: the result has the base's dtype; integer bases and mixed pairs go through float64.
    add("pow_int32", [N("Pow", ["a", "b"], ["y"])],
        {"a": np.array([3, -2, 2, 5, 0, 7, -3], np.int32), "b": np.array([4, 3, -1, 13, 0, 11, 5], np.int32)},
        (np.int32, [7]))
    add("pow_int64_float_exponent", [N("Pow", ["a", "b"], ["y"])],
        {"a": np.array([[3, 3, 2], [10, 7, 1]], np.int64), "b": np.array([0.5, 2.7, -1.5], np.float32)}, (np.int64, [2, 3]))
    add("pow_float32_int64_exponent", [N("Pow", ["a", "b"], ["y"])],
        {"a": _r(np.float32, 2, 4), "b": np.array([5, -2, 3, 0], np.int64)}, (np.float32, [2, 4]))
    add("pow_float16_float32_exponent", [N("Pow", ["a", "b"], ["y"])],
        {"a": np.abs(_r(np.float16, 5)) + np.float16(0.5), "b": np.array([5, -2, 3.3, 0.5, 1.0], np.float32)}, (np.float16, [5]))


# onnxruntime has no CPU kernel for these (float64 Conv / AveragePool / global pooling,
# integer Gemm): their reference is the onnx package's own evaluator.
_ONNX_REFERENCE = {"conv_float64_im2col_stride", "conv_float64_1d", "avgpool_float64_include_pad", "global_avg_float64",
                   "global_max_float64", "gemm_int32_alpha_beta", "gemm_int64_dot", "gemm_uint32"}


def _reference(name: str) -> np.ndarray:
    model, inputs = CASES[name]
    if name in _ONNX_REFERENCE:
        from onnx.reference import ReferenceEvaluator

        return ReferenceEvaluator(model).run(None, inputs)[0]
    return reference(model, inputs)["y"]


CASES = _cases()


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, np.ndarray]]:
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    work = Path(tmp_path_factory.mktemp("dtypes"))
    models = {n: (m, x) for n, (m, x) in CASES.items()}
    models["gather_out_of_range"] = (_OUT_OF_RANGE, {"x": _OOR_X, "i": _OOR_I})
    return run_models(models, work)


@pytest.mark.parametrize("name", list(CASES))
def test_matches_onnxruntime(name: str, results: dict[str, dict[str, np.ndarray]]) -> None:
    want = _reference(name)
    got = results[name]["y"]
    assert got.dtype == want.dtype and got.shape == want.shape
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        rtol = {np.dtype(np.float16): 1e-3, np.dtype(np.float32): 1e-5, np.dtype(np.float64): 1e-12}[want.dtype]
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)


# onnxruntime rejects an out-of-range index; the generated C clamps it to the nearest end
# (TVM's take mode "clip") and never reads outside the buffer (AddressSanitizer is on).
_OOR_X = np.arange(12, dtype=np.float32).reshape(4, 3)
_OOR_I = np.array([7, -9, 2, -2**40], np.int64)
_OUT_OF_RANGE = _model([N("Gather", ["x", "i"], ["y"])], {"x": _OOR_X, "i": _OOR_I}, {"y": (np.float32, [4, 3])})


def test_out_of_range_gather_indices_are_clamped(results: dict[str, dict[str, np.ndarray]]) -> None:
    np.testing.assert_array_equal(results["gather_out_of_range"]["y"], _OOR_X[[3, 0, 2, 0]])


def test_every_unsupported_dtype_is_listed_in_one_report() -> None:
    # onnx's checker refuses Conv/Exp on integers, so the model is made without it.
    g = helper.make_graph([N("Conv", ["x", "w"], ["c"], name="conv"), N("Cast", ["x"], ["f"], to=6),
                           N("Exp", ["f"], ["y"], name="exp")], "m",
                          [helper.make_tensor_value_info("x", 3, [1, 1, 3, 3])],
                          [helper.make_tensor_value_info("c", 3, [1, 1, 3, 3]), helper.make_tensor_value_info("y", 6, [1, 1, 3, 3])],
                          [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.int8), "w")])
    with pytest.raises(CompilerError) as exc:
        import_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION))
    msgs = [d.message for d in exc.value.diagnostics]
    assert len(msgs) == 2
    assert "node conv (Conv): input dtype int8 is not supported (supported: float16, float32, float64, bfloat16)" in msgs[0]
    assert "node exp (Exp): input dtype int32 is not supported (supported: float16, float32, float64, bfloat16)" in msgs[1]


def test_gather_index_dtype_is_checked() -> None:
    g = helper.make_graph([N("Gather", ["x", "i"], ["y"], name="g")], "m",
                          [helper.make_tensor_value_info("x", 1, [4]), helper.make_tensor_value_info("i", 1, [2])],
                          [helper.make_tensor_value_info("y", 1, [2])])
    with pytest.raises(CompilerError, match="indices have dtype float32; int32 or int64 expected"):
        import_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION))


def test_c_header_and_entry_use_each_tensors_c_type() -> None:
    from tir_lsp.compiler.executor.aot import build_aot
    from tir_lsp.compiler.executor.c_interface import interface_header, interface_source
    from tir_lsp.compiler.executor.options import resolve

    p = build_aot(import_onnx(CASES["float16_mul_sigmoid"][0]), resolve({"executor": "aot", "interface-api": "c",
                                                                        "unpacked-api": True}, model_name="h"))
    h = interface_header(p)
    assert "struct tvmgen_h_inputs {\n  uint16_t* a;  /* float16 bits */\n  uint16_t* b;  /* float16 bits */\n};" in h
    assert "#define TVMGEN_H_A_SIZE 24" in h  # 2 x 6 float16
    p = build_aot(import_onnx(CASES["equal_not_and_or_xor"][0]), resolve({"executor": "aot", "interface-api": "c",
                                                                         "unpacked-api": True}, model_name="b"))
    h, src = interface_header(p), interface_source(p)
    assert "  int32_t* a;" in h and "  bool* p;" in h and "struct tvmgen_b_outputs {\n  bool* y;\n};" in h
    assert "#define TVMGEN_B_Y_SIZE 8" in h
    assert "(int32_t* a, int32_t* b, bool* p, bool* q, bool* y" in src


def test_graph_json_and_metadata_carry_the_dtypes() -> None:
    from tir_lsp.compiler.executor.build import compile_model
    from tir_lsp.compiler.executor.mlf import metadata
    from tir_lsp.compiler.executor.options import resolve

    model = CASES["gather_int32_axis1"][0]
    c = compile_model(model, resolve({"executor": "graph"}, model_name="g"))
    assert c.program.json["attrs"]["dltype"][1] == ["int64", "int32", "int64"]  # type: ignore[union-attr]
    meta = metadata(c)
    ins = {t["name"]: (t["dtype"], t["size_bytes"]) for t in meta["inputs"]}
    assert ins == {"x": ("int64", 2 * 6 * 2 * 8), "i": ("int32", 3 * 4)}


def test_linked_weights_of_every_dtype(tmp_path: Path) -> None:
    """With link-params the int64, float16 and bool weights are compiled in as their bytes."""
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    model, inputs = CASES["weights_int64_bool_float16"]
    got = run_models({"w": (model, dict(inputs))}, tmp_path, cflags=["-O1"], link_params=True)["w"]["y"]
    np.testing.assert_array_equal(got, reference(model, inputs)["y"])


def test_integer_gemm_needs_whole_alpha_and_pow_a_supported_base() -> None:
    g = helper.make_graph([N("Gemm", ["a", "b"], ["g"], name="gemm", alpha=0.5), N("Pow", ["u", "e"], ["p"], name="pow")], "m",
                          [helper.make_tensor_value_info("a", 6, [2, 2]), helper.make_tensor_value_info("b", 6, [2, 2]),
                           helper.make_tensor_value_info("u", 2, [2]), helper.make_tensor_value_info("e", 1, [2])],
                          [helper.make_tensor_value_info("g", 6, [2, 2]), helper.make_tensor_value_info("p", 2, [2])])
    with pytest.raises(CompilerError) as exc:
        import_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION))
    msgs = [d.message for d in exc.value.diagnostics]
    assert len(msgs) == 2
    assert "node gemm (Gemm): attribute alpha: 0.5 is not a whole number, as int32 inputs need" in msgs[0]
    assert "node pow (Pow): base dtype uint8 is not supported (supported: float16, float32, float64, bfloat16, int32, int64)" in msgs[1]
