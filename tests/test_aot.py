"""The AOT executor: options, __tvm_main__, the typed C interface, and end-to-end numbers
against onnxruntime (models compiled to C with gcc and run)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, MODELS, lenet, mlp, random_inputs, reference, run_archive

from compiler.backend.mlf import archive_bytes
from compiler.diagnostics import CompilerError
from compiler.executor.aot import build_aot
from compiler.executor.build import compile_model
from compiler.executor.c_interface import interface_header
from compiler.executor.options import resolve
from compiler.frontend.onnx_import import import_onnx

C_OPTS = {"executor": "aot", "interface-api": "c", "unpacked-api": True}


def _message(**kw: object) -> str:
    target = kw.pop("target", None)
    with pytest.raises(CompilerError) as info:
        resolve(dict(kw), target=target)  # type: ignore[arg-type]
    d = info.value.diagnostics[0]
    assert d.code == "TIR107"
    return d.message


def test_graph_with_unpacked_api_is_rejected_first() -> None:
    # Also invalid for interface-api c, but the unpacked-api message comes first.
    msg = _message(executor="graph", **{"unpacked-api": True, "interface-api": "c"})
    assert msg.startswith("the graph executor invokes operators through packed functions only")
    assert "use --executor aot, or drop --unpacked-api" in msg


def test_other_invalid_combinations() -> None:
    assert "--interface-api c exists only for the aot executor" in _message(executor="graph", **{"interface-api": "c"})
    assert "add --unpacked-api" in _message(executor="aot", **{"interface-api": "c"})
    assert "needs the C runtime" in _message(executor="aot", runtime="cpp", **{"interface-api": "c", "unpacked-api": True})


def test_options_in_a_target_string_warn_and_mean_the_same() -> None:
    o = resolve({}, target="c -executor=aot -interface-api=c -unpacked-api=1")
    assert (o.executor, o.interface_api, o.unpacked_api) == ("aot", "c", True)
    assert o.warnings[0] == "option executor inside the target string is deprecated; pass --executor instead"
    assert o == resolve(C_OPTS)


def test_target_string_disagreeing_with_the_command_line_names_both() -> None:
    msg = _message(executor="graph", target="c -executor=aot")
    assert msg == "executor is graph on the command line but aot in the target string 'c -executor=aot'; say it once"


def test_config_file_under_the_command_line(tmp_path: Path) -> None:
    from compiler.executor.options import read_config

    cfg = tmp_path / "opts.toml"
    cfg.write_text('executor = "aot"\ninterface-api = "c"\nunpacked_api = true\nmodel-name = "net"\n')
    o = resolve({"link-params": True}, read_config(cfg))
    assert (o.executor, o.interface_api, o.unpacked_api, o.link_params, o.model_name) == ("aot", "c", True, True, "net")


def test_main_calls_operators_in_order_with_call_extern() -> None:
    p = build_aot(import_onnx(mlp()), resolve(C_OPTS))
    main = p.module.get("tvmgen_default___tvm_main__")
    assert main is not None and main.attrs["tir.is_entry_func"] is True
    assert p.module.attrs["executor"] == "aot" and p.module.attrs["unpacked-api"] is True
    assert 'T.call_extern("int32", "tvmgen_default_fused_nn_matmul_add_nn_relu", x.data, p_w1.data, p_b1.data, sid_1)' in p.text
    assert 'T.call_extern("int32", "tvmgen_default_fused_nn_dense_sigmoid", sid_1, p_w2.data, p_b2.data, y.data)' in p.text
    assert 'sid_1: T.handle("float32") = T.address_of(global_workspace[0])' in p.text
    assert p.plan.pool_size == 256  # one 2x32 float32 intermediate


def test_link_params_makes_weights_constants_of_main() -> None:
    p = build_aot(import_onnx(mlp()), resolve({**C_OPTS, "link-params": True}))
    assert "p_b2 = T.allocate_const([" in p.text
    main = p.module.get("tvmgen_default___tvm_main__")
    assert main is not None and [v.name for v in main.params] == ["x", "y", "global_workspace"]


def test_workspace_is_the_peak_live_set_on_lenet() -> None:
    p = build_aot(import_onnx(lenet()), resolve(C_OPTS))
    assert p.plan.pool_size == p.plan.peak_live < p.plan.naive_size
    assert p.plan.conflicts(p.lives) == []


def test_c_header_declares_typed_entry_and_structs() -> None:
    p = build_aot(import_onnx(mlp()), resolve({**C_OPTS}, model_name="my_net"))
    h = interface_header(p)
    assert "struct tvmgen_my_net_inputs {\n  void* x;\n};" in h
    assert "struct tvmgen_my_net_outputs {\n  void* y;\n};" in h
    assert "int32_t tvmgen_my_net_run(struct tvmgen_my_net_inputs* inputs, struct tvmgen_my_net_outputs* outputs);" in h
    assert "#define TVMGEN_MY_NET_X_SIZE 128" in h


def test_model_name_must_be_a_c_identifier() -> None:
    with pytest.raises(CompilerError, match="model name 'my-net' is not a C identifier"):
        resolve(C_OPTS, model_name="my-net")


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("link_params", [False, True])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_end_to_end_matches_onnxruntime(name: str, link_params: bool, tmp_path: Path) -> None:
    model: onnx.ModelProto = MODELS[name]()
    compiled = compile_model(model, resolve({**C_OPTS, "link-params": link_params}))
    archive = tmp_path / "model.tar"
    archive.write_bytes(archive_bytes(compiled))
    inputs = random_inputs(model)
    got = run_archive(archive, tmp_path / "x", inputs)
    want = reference(model, inputs)
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)
