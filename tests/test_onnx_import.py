"""ONNX import: shapes, constants, fusion into TVM-named functions, and errors that name the
node, the operator and the attribute."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import IR_VERSION, lenet, mlp, resblock
from onnx import TensorProto, helper, numpy_helper

from tir_lsp.compiler.cli import main as tirc
from tir_lsp.compiler.diagnostics import CODES, CompilerError
from tir_lsp.compiler.frontend.fuse import fuse
from tir_lsp.compiler.frontend.onnx_import import import_onnx
from tir_lsp.compiler.ir.structural import structural_diff
from tir_lsp.compiler.text.reader import read_tir


def _one_node(node: onnx.NodeProto, in_shape: list, out_shape: list, inits: dict | None = None,
              dim_param: str | None = None) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [dim_param or in_shape[0], *in_shape[1:]])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape)
    init = [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()]
    g = helper.make_graph([node], "one", [x], [y], init)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)


def _error(model: onnx.ModelProto) -> str:
    with pytest.raises(CompilerError) as info:
        import_onnx(model)
    (d,) = info.value.diagnostics
    assert d.code == "TIR203"
    return d.message


def test_lenet_shapes_and_fused_function_names() -> None:
    g = import_onnx(lenet())
    assert g.inputs == ["x"] and g.outputs == ["y"]
    assert g.tensors["c1"].shape == (1, 6, 16, 16)
    assert g.tensors["p1"].shape == (1, 6, 8, 8)
    assert g.tensors["f"].shape == (1, 64)
    assert [f.name for f in fuse(g)] == [
        "tvmgen_default_fused_nn_conv2d_tanh",
        "tvmgen_default_fused_nn_avg_pool2d",
        "tvmgen_default_fused_nn_conv2d_nn_relu",
        "tvmgen_default_fused_nn_max_pool2d",
        "tvmgen_default_fused_reshape",
        "tvmgen_default_fused_nn_matmul_add_clip",
        "tvmgen_default_fused_nn_matmul_add",
        "tvmgen_default_fused_nn_softmax",
    ]


def test_fusion_stops_at_a_tensor_with_two_consumers_and_names_repeats() -> None:
    fused = fuse(import_onnx(resblock()), "net")
    names = [f.name for f in fused]
    # bn1 (folded to scale and shift) and relu1 fuse into conv1; "d" feeds Transpose and
    # GlobalAveragePool, so the Sub ending conv3's group stays that group's output.
    assert names == [
        "tvmgen_net_fused_nn_conv2d_nn_batch_norm_nn_relu",
        "tvmgen_net_fused_nn_conv2d_add_nn_relu",
        "tvmgen_net_fused_concatenate",
        "tvmgen_net_fused_nn_conv2d_multiply_subtract",
        "tvmgen_net_fused_transpose",
        "tvmgen_net_fused_nn_global_avg_pool2d",
        "tvmgen_net_fused_nn_batch_flatten_divide",
    ]
    assert fused[1].inputs == ["r1", "w2", "x"]


def test_batch_norm_folds_into_scale_and_shift_constants() -> None:
    g = import_onnx(resblock())
    scale, shift = g.constants["bn1__scale"], g.constants["bn1__shift"]
    model = resblock()
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    want = init["g"] / np.sqrt(init["var"] + 1e-3)
    np.testing.assert_allclose(scale, want, rtol=1e-6)
    np.testing.assert_allclose(shift, init["b"] - init["mu"] * want, rtol=1e-5, atol=1e-7)


def test_every_generated_function_prints_and_reads_back_as_itself() -> None:
    for model in (mlp(), lenet(), resblock()):
        for f in fuse(import_onnx(model)):
            result = read_tir(f.text, f.name)
            assert result.diagnostics == [], (f.name, result.diagnostics)
            func = result.module.functions[0]
            assert func.name == f.name and func.s_tir
            assert structural_diff(func, f.func) is None


def test_conv_with_padding_reads_a_guarded_im2col() -> None:
    (f, *_) = fuse(import_onnx(lenet()))
    # im2col checks both sides of each padded axis; the GEMM micro-kernel reads the packed
    # columns with no checks.
    assert ("T.if_then_else(0 <= v_r + v_k // 5 % 5 - 2 and v_r + v_k // 5 % 5 - 2 < 16 and "
            "0 <= v_q + v_k % 5 - 2 and v_q + v_k % 5 - 2 < 16, p0[0, v_k // 25, v_r + v_k // 5 % 5 - 2, "
            "v_q + v_k % 5 - 2], T.float32(0.0))") in f.text
    assert "acc[i, j] = acc[i, j] + p1_mat[i, k] * conv2d_col[v_jo, k, j]" in f.text
    assert 'T.Buffer((6, 1, 5, 5), "float32")' in f.text


def test_unsupported_operator_names_node_and_op() -> None:
    m = _one_node(helper.make_node("Gelu", ["x"], ["y"], name="act"), [1, 4], [1, 4])
    msg = _error(m)
    assert msg.startswith("ONNX import: node act (Gelu): operator Gelu is not supported; supported: Abs, Add, ")


def test_unsupported_attribute_names_node_op_and_attribute() -> None:
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], storage_order=1)
    assert _error(_one_node(node, [1, 1, 4, 4], [1, 1, 3, 3])) == \
        "ONNX import: node pool (MaxPool): attribute storage_order: storage_order=1 is not supported"
    node = helper.make_node("Relu", ["x"], ["y"], name="r", alpha=0.1)
    assert _error(_one_node(node, [1, 4], [1, 4])) == "ONNX import: node r (Relu): attribute alpha is not supported"


def test_dynamic_shape_is_an_error() -> None:
    m = _one_node(helper.make_node("Relu", ["x"], ["y"], name="r"), [1, 4], ["N", 4], dim_param="N")
    assert _error(m) == ("ONNX import: input x has a dynamic shape (dimension 'N'); only static shapes are supported")


def test_reshape_needs_a_constant_shape() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    s = helper.make_tensor_value_info("s", TensorProto.INT64, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])
    g = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "g", [x, s], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    # The shape is a graph input here (int64, a dtype the importer reads): a dynamic shape.
    assert _error(m) == ("ONNX import: node rs (Reshape): input s (its shape input) is computed at run time, so the "
                         "output shape would be dynamic, which the static memory plan cannot hold: it must be a "
                         "constant, an initializer, or computed from constants and initializers only (dynamic "
                         "shapes are not supported)")


def test_expand_to_a_run_time_shape_is_listed_with_the_other_errors(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Expand's output shape is its shape input's value: computed at run time (here from a
    graph input), it cannot be planned. The report names the node and the model file, says
    what the input must be, and lists the model's other unsupported node too; the node fed
    by the failed Expand is not reported again, and an Expand to a constant shape imports."""
    N = helper.make_node
    g = helper.make_graph(
        [N("Cast", ["n"], ["s"], to=TensorProto.INT64), N("Expand", ["x", "s"], ["e"], name="expand_dyn"),
         N("Relu", ["e"], ["r"]), N("Expand", ["x", "c"], ["y2"], name="expand_ok"), N("Erf", ["x"], ["y3"], name="erf")],
        "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3]),
              helper.make_tensor_value_info("n", TensorProto.INT32, [2])],
        [helper.make_tensor_value_info("r", TensorProto.FLOAT, None), helper.make_tensor_value_info("y2", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("y3", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(np.array([2, 1], np.int64), "c")])
    path = tmp_path / "dyn.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION), path)
    assert tirc(["build", str(path), "-o", str(tmp_path / "out.tar")]) != 0
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0] == (f"{path}: error: ONNX import: node expand_dyn (Expand): input s (its shape input) is computed at "
                        "run time, so the output shape would be dynamic, which the static memory plan cannot hold: it "
                        "must be a constant, an initializer, or computed from constants and initializers only (dynamic "
                        "shapes are not supported) [TIR203]")
    assert lines[1].startswith(f"{path}: error: ONNX import: node erf (Erf): operator Erf is not supported")
    assert not (tmp_path / "out.tar").exists()


def test_constant_node_and_reshape_minus_one() -> None:
    shape = helper.make_node("Constant", [], ["s"], value=numpy_helper.from_array(np.array([-1, 2], dtype=np.int64)))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])
    g = helper.make_graph([shape, helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "g", [x], [y])
    graph = import_onnx(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION))
    assert graph.tensors["y"].shape == (3, 2)
    assert [n.op_type for n in graph.nodes] == ["Reshape"]


def test_shape_mismatch_in_gemm_names_the_node() -> None:
    node = helper.make_node("Gemm", ["x", "w"], ["y"], name="fc")
    m = _one_node(node, [1, 4], [1, 3], {"w": np.zeros((5, 3), np.float32)})
    assert _error(m) == "ONNX import: node fc (Gemm): inner dimensions differ: (1, 4) and (5, 3)"


def test_import_errors_have_their_own_code() -> None:
    assert CODES["TIR203"].title == "model import error: unsupported operator, attribute or shape"


def test_malformed_attributes_name_the_attribute_instead_of_crashing() -> None:
    w = {"w": np.zeros((2, 1, 3, 3), np.float32)}
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", strides=[0, 0])
    assert _error(_one_node(node, [1, 1, 4, 4], [1, 2, 2, 2], w)) == \
        "ONNX import: node c (Conv): attribute strides: strides [0, 0] must be at least 1"
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c", kernel_shape="3x3")
    assert _error(_one_node(node, [1, 1, 4, 4], [1, 2, 2, 2], w)) == \
        "ONNX import: node c (Conv): attribute kernel_shape: kernel_shape must be a list of integers, got '3x3'"
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="c")
    assert _error(_one_node(node, [1, 1, 4, 4], [1, 2, 2, 2], {"w": np.zeros((2, 3), np.float32)})) == \
        "ONNX import: node c (Conv): weight shape (2, 3) does not have the input's rank 4 (out channels, in channels, kernel)"


@pytest.mark.parametrize("op", ["Reshape", "Gather", "Slice", "Expand"])
def test_an_empty_required_input_of_a_folded_node_is_an_error_not_a_crash(op: str) -> None:
    # Every input is "" (omitted), so the node is constant-folded; before, the folder read
    # None as an array and the importer died with an AttributeError.
    empty = helper.make_node(op, ["", ""], ["t"], name="n")
    add = helper.make_node("Add", ["x", "x"], ["y"])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    model = helper.make_model(helper.make_graph([empty, add], "g", [x], [y]),
                              opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    assert _error(model) == (f"ONNX import: node n ({op}): malformed attributes or inputs "
                             f"(ValueError: input 0 of {op} is empty but required)")


def test_input_of_unknown_rank_is_a_dynamic_shape() -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, None)
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="r")], "g", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    assert _error(m) == "ONNX import: input x has no shape (unknown rank); only static shapes are supported"


def _build(tmp_path: Path, content: bytes | onnx.ModelProto, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "model.onnx"
    path.write_bytes(content if isinstance(content, bytes) else content.SerializeToString())
    code = tirc(["build", str(path), "-o", str(tmp_path / "out.tar"), "--executor", "aot", "--interface-api", "c",
                 "--unpacked-api"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and not (tmp_path / "out.tar").exists()
    return code, err.replace(str(path), "model.onnx")


def test_tirc_build_of_an_unsupported_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node = helper.make_node("MaxPool", ["x"], ["y"], name="pool", kernel_shape=[2, 2], storage_order=1)
    code, err = _build(tmp_path, _one_node(node, [1, 1, 4, 4], [1, 1, 3, 3]), capsys)
    assert code == 1
    assert err == ("model.onnx: error: ONNX import: node pool (MaxPool): attribute storage_order: "
                   "storage_order=1 is not supported [TIR203]\n")


@pytest.mark.parametrize("content", [b"", b"not a model at all\n", bytes(range(256)) * 4])
def test_tirc_build_of_a_file_that_is_not_onnx(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    code, err = _build(tmp_path, content, capsys)
    assert code == 1
    assert err.startswith("model.onnx: error: ONNX import: not an ONNX model (") and err.endswith(") [TIR203]\n")
    assert err.count("\n") == 1


def test_missing_or_short_external_weight_file_is_named(tmp_path: Path) -> None:
    w = numpy_helper.from_array(np.ones((64, 64), np.float32), "W")
    node = helper.make_node("MatMul", ["x", "W"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], [w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=IR_VERSION)
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    data = (tmp_path / "weights.bin").read_bytes()
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(CompilerError) as info:
        import_onnx(path)
    assert info.value.diagnostics[0].code == "TIR203"
    assert "initializer 'W': its data is in the external file 'weights.bin'" in info.value.diagnostics[0].message
    assert "missing or not a regular file" in info.value.diagnostics[0].message
    (tmp_path / "weights.bin").write_bytes(data[:100])
    with pytest.raises(CompilerError) as info:
        import_onnx(path)
    assert "has 100 bytes, the model needs 16384" in info.value.diagnostics[0].message
    (tmp_path / "weights.bin").write_bytes(data)
    assert import_onnx(path) is not None
    # A malformed offset is onnx's own error, reported as the model's fault (it was an
    # internal error while looking for the missing file's name).
    bad = onnx.load(str(path), load_external_data=False)
    for entry in bad.graph.initializer[0].external_data:
        if entry.key == "location":
            entry.value = "missing.bin"
    bad.graph.initializer[0].external_data.add(key="offset", value="zz")
    onnx.save(bad, str(tmp_path / "bad.onnx"))
    with pytest.raises(CompilerError) as info:
        import_onnx(tmp_path / "bad.onnx")
    assert info.value.diagnostics[0].code == "TIR203"
    assert "not an ONNX model" in info.value.diagnostics[0].message
