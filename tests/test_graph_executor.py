"""``tirc build --executor graph``: graph.json (TVM's graph executor format), storage ids,
the operator table, and end-to-end numbers against onnxruntime: the archive's C compiled to
a shared library and its graph.json run node by node through the packed ABI (ctypes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aot_models import HAVE_GCC, MODELS, mlp, random_inputs, reference, resblock
from light_models import NO_MALLOC
from packed_runner import load_archive, run_graph, run_graph_in_c

from tir_lsp.compiler.cli_build import read_archive
from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.graph_json import assign_storage
from tir_lsp.compiler.executor.mlf import archive_bytes
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.frontend.fuse import fuse
from tir_lsp.compiler.frontend.onnx_import import import_onnx

GRAPH: dict[str, object] = {"executor": "graph"}
MATMUL = "tvmgen_default_fused_nn_matmul_add_nn_relu"
DENSE = "tvmgen_default_fused_nn_dense_sigmoid"


def test_graph_json_of_the_mlp() -> None:
    c = compile_model(mlp(), resolve(GRAPH))
    g = c.program.json  # type: ignore[union-attr]
    assert g["nodes"] == [
        {"op": "null", "name": "x", "inputs": []},
        {"op": "null", "name": "p_w1", "inputs": []},
        {"op": "null", "name": "p_b1", "inputs": []},
        {"op": "null", "name": "p_w2", "inputs": []},
        {"op": "null", "name": "p_b2", "inputs": []},
        {"op": "tvm_op", "name": MATMUL, "inputs": [[0, 0, 0], [1, 0, 0], [2, 0, 0]],
         "attrs": {"func_name": MATMUL, "num_inputs": "3", "num_outputs": "1", "flatten_data": "0"}},
        {"op": "tvm_op", "name": DENSE, "inputs": [[5, 0, 0], [3, 0, 0], [4, 0, 0]],
         "attrs": {"func_name": DENSE, "num_inputs": "3", "num_outputs": "1", "flatten_data": "0"}},
    ]
    assert g["arg_nodes"] == [0, 1, 2, 3, 4]
    assert g["heads"] == [[6, 0, 0]]
    assert g["node_row_ptr"] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert g["attrs"] == {
        "dltype": ["list_str", ["float32"] * 7],
        "shape": ["list_shape", [[2, 16], [16, 32], [32], [10, 32], [10], [2, 32], [2, 10]]],
        "storage_id": ["list_int", [0, 1, 2, 3, 4, 5, 6]],
    }


def test_intermediates_share_storage_only_when_not_live_together() -> None:
    graph = import_onnx(resblock())
    fused = fuse(graph)
    consts = list(dict.fromkeys(t for g in fused for t in g.inputs if t in graph.constants))
    storage, sizes = assign_storage(graph, fused, consts)
    # r1 dies at conv2, so concat's output takes (and grows) its storage; gap reuses it once
    # concat's output is read; the outputs t and y2 never share.
    assert [storage[g.output] for g in fused] == [7, 8, 7, 8, 9, 7, 10]
    assert sizes[7] == 1152 and sizes[8] == 576
    from tir_lsp.compiler.executor.aot import liveness

    lives = {b.name: b for b in liveness(graph, fused)}
    for a in lives.values():
        for b in lives.values():
            if a is not b and storage[a.name] == storage[b.name]:
                assert a.last < b.first or b.last < a.first, (a, b)


def test_graph_archive_layout(tmp_path: Path) -> None:
    import json

    c = compile_model(resblock(), resolve(GRAPH, model_name="res"))
    (tmp_path / "a.tar").write_bytes(archive_bytes(c))
    files = read_archive(tmp_path / "a.tar")
    assert sorted(files) == [
        "codegen/host/include/tir_runtime.h", "codegen/host/include/tvmgen_res.h",
        "codegen/host/src/res_lib0.c", "codegen/host/src/res_lib1.c",
        "executor-config/graph/graph.json", "metadata.json", "parameters/res.params.npz",
        "src/tir-0.txt", "src/tir-11.txt",
    ]
    meta = json.loads(files["metadata.json"])
    assert meta["executor"] == "graph" and meta["entry_point"] is None
    # The convolutions' im2col columns are planned entries too (no operator allocates).
    assert meta["memory"]["peak_live_bytes"] == 6912 <= meta["memory"]["workspace_size_bytes"] == 7616
    assert meta["memory"]["storage"][7] == {"storage_id": 7, "size_bytes": 5760, "tensors": [
        "tvmgen_res_fused_nn_conv2d_nn_batch_norm_nn_relu/conv2d_col", "tvmgen_res_fused_nn_conv2d_add_nn_relu/conv2d_col",
        "cat", "gap"]}
    graph = json.loads(files["executor-config/graph/graph.json"])
    assert [n["name"] for n in graph["nodes"] if n["op"] == "null"] == [
        "x", "p_w1", "p_bn1__scale", "p_bn1__shift", "p_w2", "p_w3", "p_scale"]
    # The params file holds exactly the weights the arg nodes name.
    import io

    params = np.load(io.BytesIO(files["parameters/res.params.npz"]))
    assert sorted(params.files) == sorted(n["name"] for n in graph["nodes"][1:7])
    lib1 = files["codegen/host/src/res_lib1.c"].decode()
    assert "__tvm_main__" not in lib1
    assert "int32_t tvmgen_res_fused_transpose(void* args, int32_t* arg_type_ids, int32_t num_args" in lib1
    lib0 = files["codegen/host/src/res_lib0.c"].decode()
    assert '  if (strcmp(name, "tvmgen_res_fused_transpose") == 0) return tvmgen_res_fused_transpose;' in lib0
    assert "get_linked_param" not in lib0


def test_every_stage_of_a_graph_build_passes_the_checker() -> None:
    from tir_lsp.compiler.analysis.run import analyze_text

    c = compile_model(mlp(), resolve(GRAPH), "all")
    assert len(c.tir_stages) == 12
    for k, text in c.tir_stages.items():
        assert analyze_text(text, k).diagnostics == [], k


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("name, link_params", [("mlp", True), *[(n, False) for n in sorted(MODELS)]])
def test_graph_runs_match_onnxruntime(name: str, link_params: bool, tmp_path: Path) -> None:
    model = MODELS[name]()
    c = compile_model(model, resolve({**GRAPH, "link-params": link_params}))
    (tmp_path / "a.tar").write_bytes(archive_bytes(c))
    meta, lib = load_archive(tmp_path / "a.tar", tmp_path / "x")
    if link_params:
        # The weights come from the library (tvmgen_default_get_linked_param): zeroing the
        # params file changes nothing.
        npz = tmp_path / "x" / "parameters" / "default.params.npz"
        np.savez(npz, **{k: np.zeros_like(v) for k, v in np.load(npz).items()})
        assert "tvmgen_default_get_linked_param" in c.sources["default_lib0.c"]
    inputs = random_inputs(model)
    got = run_graph(meta, lib, tmp_path / "x", inputs)
    want = reference(model, inputs)
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("link_params", [False, True])
def test_graph_runs_in_c_without_heap(link_params: bool, tmp_path: Path) -> None:
    # resblock's convolutions need padded copies of their inputs: they are graph.json
    # entries (extra outputs before the result), planned with the rest, so a C runner with
    # one static array per storage id runs every operator while malloc aborts.
    model = resblock()
    c = compile_model(model, resolve({**GRAPH, "link-params": link_params}))
    conv = next(n for n in c.program.json["nodes"] if "conv2d" in n["name"])  # type: ignore[union-attr]
    assert int(conv["attrs"]["num_outputs"]) > 1
    assert "TVMBackendAllocWorkspace" not in c.sources["default_lib1.c"]
    (tmp_path / "a.tar").write_bytes(archive_bytes(c))
    from aot_models import extract

    meta = extract(tmp_path / "a.tar", tmp_path / "x")
    inputs = random_inputs(model)
    got = run_graph_in_c(meta, tmp_path / "x", inputs, extra_c=NO_MALLOC)
    want = reference(model, inputs)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)
