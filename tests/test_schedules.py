"""The loop schedules of the heavy operators (tir_lsp/compiler/frontend/schedules): the
compiler picks them from the shapes (the block names in the generated TIR say which), and
the scheduled C matches onnxruntime for shapes the 8x8 tiles do not divide, strides,
dilations, groups, depthwise, 1x1, asymmetric pads, row-blocked im2col, batches, Gemm with
transA / transB and odd sizes, batched MatMul. All cases build into ONE program compiled
with AddressSanitizer and UndefinedBehaviorSanitizer (one gcc call, run once; at -O0: the
unrolled micro-kernels take gcc -O1 -g ten times longer, and every access is checked the
same)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, inferred_model, reference, run_models
from onnx import helper

from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.frontend.schedules import conv2d

pytestmark = pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
SANITIZE_O0 = ["-O0", "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def _model(node: onnx.NodeProto, inputs: dict[str, list[int]], inits: dict[str, np.ndarray]) -> onnx.ModelProto:
    return inferred_model([node], node.op_type.lower(), inputs, inits)


def _conv(x: list[int], w: list[int], seed: int, **attrs: object) -> onnx.ModelProto:
    r = np.random.default_rng(seed)
    inits = {"w": r.standard_normal(w), "b": r.standard_normal(w[0])}
    return _model(helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs), {"x": x}, inits)


def _gemm(a: list[int], b: list[int], seed: int, c: list[int] | None = None, **attrs: object) -> onnx.ModelProto:
    r = np.random.default_rng(seed)
    inits = {"b": r.standard_normal(b)}
    ins = ["a", "b"]
    if c is not None:
        inits["c"] = r.standard_normal(c)
        ins.append("c")
    return _model(helper.make_node("Gemm", ins, ["y"], **attrs), {"a": a}, inits)


def _matmul(a: list[int], b: list[int]) -> onnx.ModelProto:
    return _model(helper.make_node("MatMul", ["a", "b"], ["y"]), {"a": a, "b": b}, {})


def _then(model: onnx.ModelProto, seed: int, *ops: str) -> onnx.ModelProto:
    """``model`` (one node writing ``y``) followed by elementwise ``ops`` that fusion folds
    into it, so the GEMM's tiles apply them as they are stored (the epilogue): "bn" (a batch
    norm of the channels), "add" (a residual input ``res`` of the output's shape), "bias"
    (a per-column vector), "relu", "clip" (0..6), "sigmoid"."""
    r = np.random.default_rng(seed)
    node = model.graph.node[0]
    out = model.graph.output[0].type.tensor_type.shape
    shape = [d.dim_value for d in out.dim]
    inputs = {i.name: [d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
    nodes, last = [helper.make_node(node.op_type, list(node.input), ["t0"], **{
        a.name: helper.get_attribute_value(a) for a in node.attribute})], "t0"
    for k, op in enumerate(ops):
        name = f"t{k + 1}" if k + 1 < len(ops) else "y"
        if op == "bn":
            c = shape[1]
            inits.update({"scale": r.uniform(0.5, 1.5, c), "shift": r.standard_normal(c),
                          "mean": r.standard_normal(c), "var": r.uniform(0.5, 2.0, c)})
            nodes.append(helper.make_node("BatchNormalization", [last, "scale", "shift", "mean", "var"], [name]))
        elif op == "add":
            inputs["res"] = shape
            nodes.append(helper.make_node("Add", [last, "res"], [name]))
        elif op == "bias":
            inits["colbias"] = r.standard_normal(shape[-1])
            nodes.append(helper.make_node("Add", [last, "colbias"], [name]))
        elif op == "clip":
            inits.update({"lo": np.array(0.0), "hi": np.array(6.0)})
            nodes.append(helper.make_node("Clip", [last, "lo", "hi"], [name]))
        else:
            nodes.append(helper.make_node({"relu": "Relu", "sigmoid": "Sigmoid"}[op], [last], [name]))
        last = name
    return inferred_model(nodes, "_".join([node.op_type.lower(), *ops]), inputs, inits)


def _conv_nobias(x: list[int], w: list[int], seed: int, **attrs: object) -> onnx.ModelProto:
    r = np.random.default_rng(seed)
    return _model(helper.make_node("Conv", ["x", "w"], ["y"], **attrs), {"x": x}, {"w": r.standard_normal(w)})


CASES: dict[str, onnx.ModelProto] = {
    # 13 x 11 outputs, 11 filters: full 8x8 tiles plus row, column and corner remainders.
    "conv3x3_rem": _conv([1, 5, 13, 11], [11, 5, 3, 3], 1, pads=[1, 1, 1, 1]),
    "conv_stride_dil_asym": _conv([1, 3, 17, 15], [9, 3, 3, 2], 2, pads=[2, 0, 1, 3], strides=[2, 3], dilations=[2, 1]),
    "conv_end_pads": _conv([1, 4, 9, 10], [16, 4, 3, 3], 3, pads=[0, 0, 2, 1], strides=[2, 2]),
    "conv_group": _conv([1, 6, 10, 9], [9, 2, 3, 3], 4, pads=[1, 1, 1, 1], group=3),
    "conv_depthwise": _conv([1, 5, 11, 12], [5, 1, 3, 3], 5, pads=[1, 2, 0, 1], group=5, strides=[1, 2]),
    "conv_depthwise_mult": _conv([1, 3, 8, 8], [6, 1, 3, 3], 6, pads=[1, 1, 1, 1], group=3),
    "conv1x1": _conv([1, 12, 7, 9], [20, 12, 1, 1], 7),
    "conv1x1_stride": _conv([1, 12, 9, 9], [10, 12, 1, 1], 8, strides=[2, 2]),
    "conv1x1_group_batch": _conv([2, 8, 5, 5], [12, 4, 1, 1], 9, group=2),
    "conv_batch": _conv([3, 2, 6, 7], [5, 2, 2, 3], 10, pads=[0, 1, 1, 0]),
    "gemm": _gemm([13, 21], [21, 19], 11, [19]),
    "gemm_tA_tB": _gemm([21, 13], [19, 21], 12, [13, 19], transA=1, transB=1, alpha=0.5, beta=2.0),
    "gemm_tB_gemv": _gemm([1, 37], [45, 37], 13, [1, 45], transB=1),
    "gemm_gemv": _gemm([1, 37], [37, 70], 14),
    "gemm_tB_rows3": _gemm([3, 50], [9, 50], 15, [9], transB=1),
    "gemm_tB_short_k": _gemm([2, 5], [6, 5], 16, transB=1),
    "matmul_batch": _matmul([2, 3, 9, 10], [2, 3, 10, 17]),
    "matmul_2d_b": _matmul([3, 5, 11], [11, 6]),
    # Epilogues: what fusion folds into a GEMM is applied to each tile as it is stored.
    "conv_bn_relu_rem": _then(_conv_nobias([1, 5, 13, 11], [11, 5, 3, 3], 21, pads=[1, 1, 1, 1]), 31, "bn", "relu"),
    "conv_bias_add_relu_stride": _then(_conv([1, 6, 15, 13], [10, 6, 3, 3], 22, pads=[1, 0, 1, 1], strides=[2, 2]), 32,
                                       "add", "relu"),
    "conv_group_clip": _then(_conv([1, 6, 10, 9], [9, 2, 3, 3], 23, pads=[1, 1, 1, 1], group=3), 33, "clip"),
    "conv1x1_batch_bn_add_relu": _then(_conv_nobias([2, 12, 5, 7], [10, 12, 1, 1], 24), 34, "bn", "add", "relu"),
    "conv_depthwise_bn_relu": _then(_conv_nobias([1, 5, 9, 8], [5, 1, 3, 3], 25, pads=[1, 1, 1, 1], group=5), 35,
                                    "bn", "relu"),
    "gemm_relu": _then(_gemm([13, 21], [21, 19], 26, [19]), 36, "relu"),
    "gemm_tA_tB_add_sigmoid": _then(_gemm([21, 13], [19, 21], 27, [13, 19], transA=1, transB=1, alpha=0.5, beta=2.0),
                                    37, "add", "sigmoid"),
    "gemm_tB_rows3_relu": _then(_gemm([3, 50], [9, 50], 28, [9], transB=1), 38, "relu"),
    "matmul_batch_bias_relu": _then(_matmul([2, 3, 9, 10], [2, 3, 10, 17]), 39, "bias", "relu"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
    work = Path(tmp_path_factory.mktemp("schedules"))
    models, refs = {}, {}
    for k, (name, model) in enumerate(CASES.items()):
        rng = np.random.default_rng(200 + k)
        inputs = {i.name: rng.standard_normal([d.dim_value for d in i.type.tensor_type.shape.dim]).astype(np.float32)
                  for i in model.graph.input}
        models[name] = (model, inputs)
        refs[name] = reference(model, inputs)
    got = run_models(models, work, cflags=SANITIZE_O0)
    return {name: (got[name], refs[name]) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_scheduled_c_matches_onnxruntime_under_sanitizers(name: str, results: dict) -> None:
    got, want = results[name]
    assert got["y"].shape == want["y"].shape
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-4, atol=1e-4)


def _tir(model: onnx.ModelProto) -> str:
    c = compile_model(model, resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True}, model_name="m"),
                      print_after=set())
    return c.tir_stages["tir-0.txt"]


def _blocks(tir: str) -> set[str]:
    return set(re.findall(r'T\.sblock\("(\w+)"\)', tir))


def test_conv_schedule_is_im2col_and_register_blocked_gemm_with_remainders() -> None:
    blocks = _blocks(_tir(CASES["conv3x3_rem"]))
    # 11 filters x 143 pixels: 8x8 tiles, the 3 remaining filters, the 7 remaining pixels;
    # each tile adds the bias as it is stored.
    assert {"conv2d_im2col", "conv2d_gemm_8x8_bias", "conv2d_gemm_8x7_bias", "conv2d_gemm_3x8_bias",
            "conv2d_gemm_3x7_bias"} <= blocks
    assert "conv2d_nchw" not in blocks  # no naive loop nest left


def test_1x1_conv_packs_its_input_in_panels_for_the_micro_kernel() -> None:
    tir = _tir(CASES["conv1x1"])
    # 63 pixels: 7 panels of 8 (the last one holds 7), read whole by the 8x8 and 8x7 tiles.
    assert re.search(r"conv2d_col: T\.Buffer\(\(8, 12, 8\)", tir)
    assert {"conv2d_im2col", "conv2d_gemm_8x8_bias", "conv2d_gemm_8x7_bias"} <= _blocks(tir)
    assert 'scope="local"' in tir and "T.vectorized(8)" in tir and "conv2d_col[v_jo, k, j]" in tir


def test_epilogue_is_applied_to_each_tile_as_it_is_stored() -> None:
    tir = _tir(CASES["conv_bn_relu_rem"])
    # Every tile (full and remainder) stores max(acc * scale + shift, 0) into the output: no
    # accumulator buffer of the output's shape, no last pass over it. The tile's pixels are
    # contiguous in the output seen as (n, c, h * w): no division per element.
    blocks = _blocks(tir)
    assert {"conv2d_gemm_8x8_batch_norm_relu", "conv2d_gemm_8x7_batch_norm_relu", "conv2d_gemm_3x8_batch_norm_relu",
            "conv2d_gemm_3x7_batch_norm_relu", "conv2d_im2col", "root"} == blocks
    assert "conv2d_nchw" not in tir
    assert "T_relu_flat = T.decl_buffer((1, 11, 143), data=T_relu.data)" in tir
    assert "T_relu_flat[0, i, v_jo * 8 + j] = T.max(acc[i, j] * p2[i] + p3[i], T.float32(0.0))" in tir
    assert "T_relu_flat[0, 8 + i, 136 + j] = T.max(acc[i, j] * p2[8 + i] + p3[8 + i], T.float32(0.0))" in tir
    # A residual input is read at the element the tile stores; the bias of the conv first.
    tir = _tir(CASES["conv_bias_add_relu_stride"])
    assert "= T.max(acc[i, j] + p2[i] + p3_flat[0, i, v_jo * 8 + j], T.float32(0.0))" in tir
    assert "conv2d_gemm_8x8_bias_add_relu" in _blocks(tir)
    assert {"dense_dot_4x8_bias_relu", "dense_dot_1x8_bias_relu"} <= _blocks(_tir(CASES["gemm_tB_rows3_relu"]))
    assert "matmul_gemm_8x8_add_relu" in _blocks(_tir(CASES["matmul_batch_bias_relu"]))
    # The depthwise convolution has no register tiles: its epilogue stays a last stage.
    assert "T_relu" in _blocks(_tir(CASES["conv_depthwise_bn_relu"]))


def test_depthwise_conv_is_direct() -> None:
    blocks = _blocks(_tir(CASES["conv_depthwise"]))
    assert "conv2d_depthwise_nchw" in blocks and "conv2d_im2col" not in blocks


def test_dense_gemv_uses_a_wide_row_tile() -> None:
    assert "dense_1x32" in _blocks(_tir(CASES["gemm_gemv"]))  # no C: nothing to apply at the store


def test_dense_with_transposed_weights_is_dot_products_along_k() -> None:
    tir = _tir(CASES["gemm_tB_rows3"])
    # 9 weight rows: two 4-row blocks and one row; 50 = 6 x 8 lanes + a remainder of 2.
    assert {"dense_dot_4x8_bias", "dense_dot_1x8_bias"} <= _blocks(tir) and "for kr in range(2):" in tir
    assert "dense_dot" not in " ".join(_blocks(_tir(CASES["gemm_tB_short_k"])))  # K < 8 lanes: the GEMM


def test_im2col_is_row_blocked_under_its_budget_and_in_the_workspace(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    model = _conv([1, 4, 20, 16], [8, 4, 3, 3], 20, pads=[1, 1, 1, 1])
    whole = _tir(model)
    assert re.search(r"conv2d_col: T\.Buffer\(\(40, 36, 8\)", whole)  # all 20 rows of 16 pixels
    monkeypatch.setattr(conv2d, "COL_BUDGET", 36 * 16 * 6)  # 6 rows at a time: 3 blocks + 2 rows
    tir = _tir(model)
    assert re.search(r"conv2d_col: T\.Buffer\(\(12, 36, 8\)", tir)
    assert "for rb in range(3):" in tir and {"conv2d_im2col", "conv2d_im2col_1"} <= _blocks(tir)
    x = np.random.default_rng(0).standard_normal([1, 4, 20, 16]).astype(np.float32)
    got = run_models({"rows": (model, {"x": x})}, tmp_path, cflags=["-O2"])
    np.testing.assert_allclose(got["rows"]["y"], reference(model, {"x": x})["y"], rtol=1e-4, atol=1e-4)
