"""Operators the real CNNs (and the onnx package's small test models) need, each in a small
model compared with onnxruntime. All models are compiled into ONE program with
AddressSanitizer and UndefinedBehaviorSanitizer (one gcc call) and run once. Also: constant
folding of shape subgraphs, no-ops, and one report listing every unsupported node."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, IR_VERSION, reference, run_models
from onnx import TensorProto, helper, numpy_helper

from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.frontend.onnx_import import import_onnx


def _model(nodes: list, x: list[int], inits: dict[str, np.ndarray] | None = None, opset: int = 13,
           extra_inputs: dict[str, list[int]] | None = None, y: list[int] | None = None) -> onnx.ModelProto:
    """Input ``x`` (float32), output ``y`` with the shape onnx's shape inference gives."""
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)]
    inputs += [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in (extra_inputs or {}).items()]
    g = helper.make_graph(nodes, "m", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], ir_version=IR_VERSION)
    inferred = onnx.shape_inference.infer_shapes(m, data_prop=True)
    m.graph.output[0].CopyFrom(inferred.graph.output[0])
    if y is not None:
        m.graph.output[0].CopyFrom(helper.make_tensor_value_info("y", TensorProto.FLOAT, y))
    onnx.checker.check_model(m)
    return m


def _f(*shape: int, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(np.float32)


def _i(*values: int) -> np.ndarray:
    return np.asarray(values, np.int64)


N = helper.make_node


def _cases() -> dict[str, onnx.ModelProto]:
    c: dict[str, onnx.ModelProto] = {}
    c["instance_norm"] = _model([N("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-3)], [2, 3, 5, 7],
                                {"s": _f(3, seed=1), "b": _f(3, seed=2)})
    # Values far from zero (mean 100, spread 1): the variance is taken of centred values.
    c["instance_norm_offset_3d"] = _model([N("Add", ["x", "off"], ["t"]), N("InstanceNormalization", ["t", "s", "b"], ["y"])],
                                          [1, 2, 4, 3, 2], {"off": np.asarray(100.0, np.float32),
                                                            "s": _f(2, seed=3), "b": _f(2, seed=4)})
    c["lrn"] = _model([N("LRN", ["x"], ["y"], size=3, alpha=1e-2, beta=0.75, bias=2.0)], [1, 5, 3, 3])
    c["lrn_wide"] = _model([N("LRN", ["x"], ["y"], size=5)], [1, 3, 2, 3])
    c["softmax_old_4d"] = _model([N("Softmax", ["x"], ["y"])], [1, 3, 2, 2], opset=9)
    c["softmax_old_axis2"] = _model([N("Softmax", ["x"], ["y"], axis=2)], [2, 3, 2, 2], opset=11)
    c["logsoftmax"] = _model([N("LogSoftmax", ["x"], ["y"], axis=1)], [2, 5])
    c["logsoftmax_old"] = _model([N("LogSoftmax", ["x"], ["y"])], [2, 3, 4], opset=9)
    c["prelu_channel"] = _model([N("PRelu", ["x", "s"], ["y"])], [1, 3, 2, 2], {"s": _f(3, 1, 1, seed=1)})
    c["leaky_selu_elu"] = _model([N("LeakyRelu", ["x"], ["a"], alpha=0.2), N("Selu", ["a"], ["b"]),
                                  N("Elu", ["b"], ["y"], alpha=0.5)], [2, 6])
    c["neg_exp"] = _model([N("Neg", ["x"], ["a"]), N("Exp", ["a"], ["y"])], [3, 4])
    c["pad_constant"] = _model([N("Pad", ["x", "p", "v"], ["y"], mode="constant")], [1, 2, 3, 3],
                               {"p": _i(0, 0, 1, 0, 0, 0, 0, 2), "v": np.asarray(1.5, np.float32)})
    c["pad_reflect"] = _model([N("Pad", ["x", "p"], ["y"], mode="reflect")], [1, 2, 4, 4], {"p": _i(0, 0, 2, 1, 0, 0, 1, 2)})
    c["pad_edge"] = _model([N("Pad", ["x", "p"], ["y"], mode="edge")], [1, 2, 3, 3], {"p": _i(0, 0, 0, 2, 0, 0, 1, 0)})
    c["pad_old"] = _model([N("Pad", ["x"], ["y"], pads=[0, 1, 0, 2], value=-1.0)], [2, 3], opset=2)
    c["expand_tile"] = _model([N("Expand", ["x", "s"], ["a"]), N("Tile", ["a", "r"], ["y"])], [3, 1],
                              {"s": _i(2, 3, 4), "r": _i(1, 2, 1)})
    c["unsqueeze_squeeze"] = _model([N("Unsqueeze", ["x", "ax"], ["a"]), N("Relu", ["a"], ["b"]),
                                     N("Squeeze", ["b", "sq"], ["y"])], [3, 4], {"ax": _i(0, 3), "sq": _i(0)})
    c["unsqueeze_old"] = _model([N("Unsqueeze", ["x"], ["y"], axes=[1])], [3, 4], opset=11)
    c["split"] = _model([N("Split", ["x", "sp"], ["a", "b", "cc"], axis=1), N("Mul", ["a", "cc"], ["m"]),
                         N("Concat", ["m", "b"], ["y"], axis=1)], [2, 7], {"sp": _i(2, 3, 2)})
    c["split_even_old"] = _model([N("Split", ["x"], ["a", "b"], axis=0), N("Sub", ["a", "b"], ["y"])], [4, 3], opset=11)
    c["slice_steps"] = _model([N("Slice", ["x", "st", "en", "ax", "sp"], ["y"])], [4, 10],
                              {"st": _i(1, 9), "en": _i(4, 0), "ax": _i(0, 1), "sp": _i(2, -3)})
    c["gather_scalar"] = _model([N("Gather", ["x", "g"], ["y"], axis=1)], [2, 5, 3], {"g": np.asarray(-2, np.int64)})
    c["gather_list"] = _model([N("Gather", ["x", "g"], ["y"], axis=0)], [5, 3], {"g": _i(4, 0, 0, 2)})
    c["reduce_mean_sum"] = _model([N("ReduceMean", ["x"], ["a"], axes=[2, 3]), N("ReduceSum", ["a", "ax"], ["y"],
                                                                                 keepdims=0)],
                                  [2, 3, 4, 5], {"ax": _i(1)})
    c["reduce_max_all"] = _model([N("ReduceMax", ["x"], ["y"], keepdims=0)], [2, 3, 4])
    c["sum_mean_max"] = _model([N("Sum", ["x", "b", "x"], ["s"]), N("Mean", ["s", "b"], ["m"]), N("Max", ["m", "x"], ["y"])],
                               [2, 3], {"b": _f(3, seed=2)})
    c["bn_old_is_test"] = _model([N("BatchNormalization", ["x", "g", "b", "mu", "v"], ["y"], is_test=1, epsilon=1e-3)],
                                 [1, 3, 2, 2],
                                 {"g": _f(3, seed=3), "b": _f(3, seed=4), "mu": _f(3, seed=5),
                                  "v": np.asarray([0.5, 1.0, 2.0], np.float32)}, opset=6)
    c["add_broadcast_axis"] = _model([N("Add", ["x", "b"], ["y"], broadcast=1, axis=1)], [2, 3, 4, 5],
                                     {"b": _f(3, seed=6)}, opset=6)
    c["gemm_broadcast"] = _model([N("Gemm", ["x", "w", "b"], ["y"], broadcast=1, transB=1)], [2, 4],
                                 {"w": _f(3, 4, seed=7), "b": _f(3, seed=8)}, opset=6)
    c["convtranspose"] = _model([N("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2, 2], pads=[1, 0, 0, 1])],
                                [1, 2, 3, 4], {"w": _f(2, 3, 3, 3, seed=9), "b": _f(3, seed=10)})
    c["convtranspose_group_outpad"] = _model([N("ConvTranspose", ["x", "w"], ["y"], strides=[2, 1], group=2,
                                                output_padding=[1, 0], dilations=[1, 2])],
                                             [1, 4, 3, 3], {"w": _f(4, 1, 2, 2, seed=11)})
    c["convtranspose_1d_same"] = _model([N("ConvTranspose", ["x", "w"], ["y"], strides=[2], auto_pad="SAME_UPPER")],
                                        [1, 2, 5], {"w": _f(2, 2, 3, seed=12)})
    c["global_max"] = _model([N("GlobalMaxPool", ["x"], ["y"])], [1, 3, 4, 5])
    c["shape_subgraph"] = _model([
        N("Shape", ["x"], ["s"]), N("Gather", ["s", "zero"], ["n"], axis=0), N("Unsqueeze", ["n", "ax0"], ["n1"]),
        N("Concat", ["n1", "minus1"], ["shape"], axis=0), N("Reshape", ["x", "shape"], ["r"]),
        N("ConstantOfShape", ["cs"], ["ones"], value=numpy_helper.from_array(np.asarray([2.0], np.float32))),
        N("Mul", ["r", "ones"], ["d"]), N("Dropout", ["d"], ["e"]), N("Identity", ["e"], ["y"])],
        [2, 3, 4], {"zero": np.asarray(0, np.int64), "ax0": _i(0), "minus1": _i(-1), "cs": _i(2, 12)}, y=[2, 12])
    return c


CASES = _cases()


def _init(name: str, key: str) -> np.ndarray:
    return next(numpy_helper.to_array(i) for i in CASES[name].graph.initializer if i.name == key)


def _bn_ref(x: np.ndarray) -> np.ndarray:
    g, b, mu, v = (_init("bn_old_is_test", k).reshape(1, 3, 1, 1) for k in ("g", "b", "mu", "v"))
    return (x - mu) / np.sqrt(v + 1e-3) * g + b


# onnxruntime runs no operator of these opsets (before 7): numpy says what ONNX defines.
NUMPY_REFS = {
    "bn_old_is_test": _bn_ref,
    "add_broadcast_axis": lambda x: x + _init("add_broadcast_axis", "b").reshape(1, 3, 1, 1),
    "gemm_broadcast": lambda x: x @ _init("gemm_broadcast", "w").T + _init("gemm_broadcast", "b"),
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, dict]]:
    if not HAVE_GCC:
        pytest.skip("needs gcc")
    work = Path(tmp_path_factory.mktemp("ops"))
    models, refs = {}, {}
    for k, (name, model) in enumerate(CASES.items()):
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        x = np.random.default_rng(200 + k).standard_normal(shape).astype(np.float32)
        models[name] = (model, {"x": x})
        refs[name] = {"y": NUMPY_REFS[name](x)} if name in NUMPY_REFS else reference(model, {"x": x})
    got = run_models(models, work)
    return {name: (got[name], refs[name]) for name in CASES}


@pytest.mark.parametrize("name", list(CASES))
def test_operator_matches_onnxruntime(name: str, results: dict) -> None:
    got, want = results[name]
    expect = np.asarray(want["y"])
    # A scalar (shape ()) is a one-element buffer of shape (1,) in the C interface.
    assert got["y"].shape == (expect.shape or (1,))
    np.testing.assert_allclose(got["y"], expect.reshape(got["y"].shape), rtol=1e-4, atol=1e-5)


def test_shape_subgraph_folds_to_one_operator() -> None:
    g = import_onnx(CASES["shape_subgraph"])
    # Shape, Gather, Unsqueeze, Concat and ConstantOfShape fold; Dropout and Identity vanish.
    assert [n.op_type for n in g.nodes] == ["Reshape", "Mul"]
    assert g.outputs == ["y"]


def test_every_unsupported_node_is_listed_in_one_report() -> None:
    m = _model([N("Gelu", ["x"], ["a"], name="g1"), N("Relu", ["a"], ["b"], name="r"),
                N("MaxPool", ["x"], ["c"], name="p", kernel_shape=[2], storage_order=1),
                N("Celu", ["x"], ["d"], name="c1"), N("Sum", ["b", "c", "d"], ["y"], name="s")], [1, 2, 4], opset=20,
               y=[1, 2, 4])
    with pytest.raises(CompilerError) as info:
        import_onnx(m)
    msgs = [d.message for d in info.value.diagnostics]
    assert all(d.code == "TIR203" for d in info.value.diagnostics)
    assert msgs[0] == "ONNX import: node g1 (Gelu): operator Gelu is not supported"
    assert msgs[1] == "ONNX import: node p (MaxPool): attribute storage_order: storage_order=1 is not supported"
    assert msgs[2].startswith("ONNX import: node c1 (Celu): operator Celu is not supported; supported: Abs, Add,")
    assert len(msgs) == 3  # nodes fed by a failed node (r, s) are not reported again
