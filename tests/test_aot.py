"""The AOT executor: options, __tvm_main__, the typed C interface and the packed entry, and
end-to-end numbers against onnxruntime (models compiled to C with gcc and run: the typed
interface from a C main, the packed entry through ctypes)."""

from __future__ import annotations

import ctypes
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, MODELS, lenet, mlp, random_inputs, reference, run_archive
from packed_runner import (
    K_DLTENSOR,
    aligned,
    call_packed,
    dltensor,
    entry_function,
    last_error,
    load_archive,
    run_packed_entry,
)

from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.executor.aot import build_aot
from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.c_interface import interface_header, params_blob
from tir_lsp.compiler.executor.mlf import archive_bytes
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.frontend.onnx_import import import_onnx

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
    from tir_lsp.compiler.executor.options import read_config

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
    assert ('sid_1: T.let[T.handle("float32", "global")] = T.reinterpret(T.handle("float32", "global").ty, '
            'T.address_of(global_workspace[0]))') in p.text
    assert p.plan.pool_size == 256  # one 2x32 float32 intermediate


@pytest.mark.parametrize("options", [C_OPTS, {"executor": "aot"}, {"executor": "aot", "unpacked-api": True}])
def test_main_built_as_ir_is_what_its_text_reads_back_as(options: dict[str, object]) -> None:
    # Main is built as IR (ir.construct), not as text: its dump reads back to the same tree,
    # with no diagnostics, and the checker finds nothing in the whole module.
    from tir_lsp.compiler.analysis.run import analyze_text
    from tir_lsp.compiler.ir.structural import structural_equal
    from tir_lsp.compiler.text.reader import read_tir

    p = build_aot(import_onnx(lenet()), resolve(options))
    back = read_tir(p.text, "<main>")
    assert [d for d in back.diagnostics if d.severity == "error"] == []
    main, again = p.module.get(p.main_symbol), back.module.get(p.main_symbol)
    assert main is not None and again is not None and structural_equal(main, again)
    assert analyze_text(p.text, "<main>").diagnostics == []


def test_link_params_compiles_weights_in_as_bytes_not_tir_numbers() -> None:
    c = compile_model(mlp(), resolve({**C_OPTS, "link-params": True}))
    assert "allocate_const" not in c.program.text  # no weights as TIR text
    main = c.program.module.get("tvmgen_default___tvm_main__")
    assert main is not None and [v.name for v in main.params] == ["x", "y", "p_w1", "p_b1", "p_w2", "p_b2", "global_workspace"]
    src = c.sources["default_params0.c"]
    assert isinstance(src, bytes) and b"const unsigned char tvmgen_default_params0[" in src
    # One string literal of the weights' bytes, raw but for six escaped ones (c_bytes).
    body = src[src.index(b'=\n"') + 3:src.rindex(b'";')].replace(b'"\n"', b"")
    decoded = re.sub(rb"\\([0-7]{3})", lambda g: bytes([int(g[1], 8)]), body)
    assert decoded == params_blob(c.program)  # type: ignore[arg-type]
    assert len(src) < 1.2 * len(decoded) + 500
    assert "extern const unsigned char tvmgen_default_params0[];" in c.sources["default_lib0.c"]
    assert "load_params" not in c.includes["tvmgen_default.h"]


def test_without_link_params_weights_stay_in_the_archive_with_a_loader(tmp_path: Path) -> None:
    from tir_lsp.compiler.executor.c_interface import params_layout

    c = compile_model(mlp(), resolve(C_OPTS))
    offsets, size = params_layout(c.program)
    h = c.includes["tvmgen_default.h"]
    assert f"#define TVMGEN_DEFAULT_PARAMS_SIZE {size}" in h
    assert "int32_t tvmgen_default_load_params(const void* data, size_t nbytes);" in h
    assert "0.1" not in c.sources["default_lib0.c"]  # no weights as C numbers
    import io
    import tarfile
    with tarfile.open(fileobj=io.BytesIO(archive_bytes(c))) as tar:
        member = tar.extractfile("./parameters/default.params.bin")
        assert member is not None
        blob = member.read()
    w2 = np.frombuffer(blob, dtype="<f4", count=320, offset=offsets["p_w2"]).reshape(10, 32)
    np.testing.assert_array_equal(w2, c.program.graph.constants["w2"])


def test_workspace_is_the_peak_live_set_on_lenet() -> None:
    p = build_aot(import_onnx(lenet()), resolve(C_OPTS))
    assert p.plan.pool_size == p.plan.peak_live < p.plan.naive_size
    assert p.plan.conflicts(p.lives) == []


def test_c_header_declares_typed_entry_and_structs() -> None:
    p = build_aot(import_onnx(mlp()), resolve({**C_OPTS}, model_name="my_net"))
    h = interface_header(p)
    assert "struct tvmgen_my_net_inputs {\n  float* x;\n};" in h
    assert "struct tvmgen_my_net_outputs {\n  float* y;\n};" in h
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


# The messages of CALLING_CONVENTION.md's invalid combinations, in its order.
GRAPH_UNPACKED = ("the graph executor invokes operators through packed functions only, so unpacked operators could "
                  "never be called; use --executor aot, or drop --unpacked-api")
GRAPH_C = "--interface-api c exists only for the aot executor; use --executor aot, or --interface-api packed"
C_PACKED = "--interface-api c with aot calls operators directly, so they must be unpacked; add --unpacked-api"
C_CPP = "--interface-api c needs the C runtime; use --runtime crt, or --interface-api packed"
# Every combination of the four options that can clash, and the message of the first rule it
# breaks (None: valid).
COMBINATIONS = [
    # executor, interface-api, unpacked-api, runtime
    (("aot", "c", True, "crt"), None),
    (("aot", "c", True, "cpp"), C_CPP),
    (("aot", "c", False, "crt"), C_PACKED),
    (("aot", "c", False, "cpp"), C_PACKED),
    (("aot", "packed", True, "crt"), None),
    (("aot", "packed", True, "cpp"), None),
    (("aot", "packed", False, "crt"), None),
    (("aot", "packed", False, "cpp"), None),
    (("graph", "c", True, "crt"), GRAPH_UNPACKED),
    (("graph", "c", True, "cpp"), GRAPH_UNPACKED),
    (("graph", "c", False, "crt"), GRAPH_C),
    (("graph", "c", False, "cpp"), GRAPH_C),
    (("graph", "packed", True, "crt"), GRAPH_UNPACKED),
    (("graph", "packed", True, "cpp"), GRAPH_UNPACKED),
    (("graph", "packed", False, "crt"), None),
    (("graph", "packed", False, "cpp"), None),
]


def test_every_option_combination_is_built_or_rejected_by_the_spec() -> None:
    model = mlp()
    for (executor, iface, unpacked, runtime), message in COMBINATIONS:
        kw = {"executor": executor, "interface-api": iface, "unpacked-api": unpacked, "runtime": runtime}
        if message is not None:
            assert _message(**kw) == message, kw
            continue
        c = compile_model(model, resolve(kw))
        lib0, lib1 = c.sources["default_lib0.c"], c.sources["default_lib1.c"]
        if executor == "graph":
            assert "tvmgen_default_get_function(const char* name)" in lib0 and c.graph_json is not None
            assert "__tvm_main__" not in lib1
        elif iface == "c":
            assert "int32_t tvmgen_default_run(struct tvmgen_default_inputs* inputs" in lib0
        else:
            assert "int32_t tvmgen_default_run(void* args, int32_t* arg_type_ids, int32_t num_args" in lib0
        # The operators are packed exactly when unpacked-api is off, whatever the executor.
        main_or_op = "int32_t tvmgen_default_fused_nn_dense_sigmoid("
        packed_sig = main_or_op + "void* args, int32_t* arg_type_ids"
        assert (packed_sig in lib1) == (not unpacked), kw


@pytest.mark.parametrize("target, command_line", [
    ("c -executor=aot -interface-api=c -unpacked-api=1", C_OPTS),
    ("c --executor=aot --interface_api=c --unpacked_api=true", C_OPTS),
    ("llvm -executor=aot -unpacked-api", {"executor": "aot", "unpacked-api": True}),  # a bare flag is true
    ("c -executor=graph -link-params=0 -runtime=cpp", {"executor": "graph", "link-params": False, "runtime": "cpp"}),
    ("c -executor=aot -interface-api=packed -link-params=yes", {"executor": "aot", "interface-api": "packed",
                                                               "link-params": True}),
])
def test_target_string_spellings_mean_the_command_line_options(target: str, command_line: dict[str, object]) -> None:
    o = resolve({}, target=target)
    assert o == resolve(command_line)
    assert len(o.warnings) == len(command_line)
    # Saying the same thing in both places is accepted (still with the deprecation warning).
    assert resolve(command_line, target=target) == o


def test_target_string_errors_name_the_target() -> None:
    assert _message(target="c -executor=vm") == "target 'c -executor=vm': executor='vm' is not one of aot, graph"
    # An invalid combination spelled only in the target string is the same error.
    assert _message(target="c -executor=graph -unpacked-api=1").startswith(
        "the graph executor invokes operators through packed functions only")


def test_target_string_disagreeing_with_the_config_file_names_both(tmp_path: Path) -> None:
    from tir_lsp.compiler.executor.options import read_config

    cfg = tmp_path / "opts.json"
    cfg.write_text('{"unpacked_api": false}')
    with pytest.raises(CompilerError, match="unpacked-api is false on the config file but true in the target string "
                                            "'c -unpacked-api=1'; say it once"):
        resolve({}, read_config(cfg), target="c -unpacked-api=1")


def test_packed_main_passes_dltensors_made_on_the_stack() -> None:
    p = build_aot(import_onnx(mlp()), resolve({"executor": "aot"}))
    assert ('T.call_cpacked("tvmgen_default_fused_nn_dense_sigmoid", '
            "T.tvm_stack_make_array(sid_1, T.tvm_stack_make_shape(2, 32), 0, 2, T.float32(0.0), 0), "
            "T.tvm_stack_make_array(p_w2.data, T.tvm_stack_make_shape(10, 32), 0, 2, T.float32(0.0), 0), "
            "T.tvm_stack_make_array(p_b2.data, T.tvm_stack_make_shape(10), 0, 1, T.float32(0.0), 0), "
            "T.tvm_stack_make_array(y.data, T.tvm_stack_make_shape(2, 10), 0, 2, T.float32(0.0), 0), "
            'T.reinterpret(T.handle().ty, T.uint64(0))) != 0:\n            return -1') in p.text
    main = p.module.get("tvmgen_default___tvm_main__")
    assert main is not None and main.attrs["tir.is_entry_func"] is True


def test_unpacked_main_behind_the_packed_wrapper_is_not_the_entry() -> None:
    # The packed wrapper tvmgen_default_run (C) is the entry; main stays an ordinary unpacked function.
    p = build_aot(import_onnx(mlp()), resolve({"executor": "aot", "unpacked-api": True}))
    main = p.module.get("tvmgen_default___tvm_main__")
    assert main is not None and "tir.is_entry_func" not in main.attrs


def test_lowered_packed_main_is_packed_and_calls_operators_directly() -> None:
    c = compile_model(mlp(), resolve({"executor": "aot", "link-params": True}))
    main = c.lowered.get("tvmgen_default___tvm_main__")
    assert main is not None and main.attrs["calling_conv"] == 1
    lib1 = c.sources["default_lib1.c"]
    assert ("tvmgen_default_fused_nn_dense_sigmoid((TVMValue[]){{.v_handle = (&(DLTensor){(void*)(sid_1), {kDLCPU, 0}, "
            "2, {2, 32, 1}, (int64_t[]){2, 32}, NULL, 0})}") in lib1
    lib0 = c.sources["default_lib0.c"]
    assert ("return tvmgen_default___tvm_main__(values, codes, 7, out_ret_value, out_ret_tcode, resource_handle);"
            in lib0)  # x, y, the four linked weights and the pool


# The packed configurations built once per model and shared by the tests below.
PACKED_CONFIGS: dict[str, dict[str, object]] = {
    "packed-ops": {"executor": "aot"},
    "unpacked-ops+link-params": {"executor": "aot", "unpacked-api": True, "link-params": True},
}
_BUILT: dict[tuple[str, str], tuple[dict[str, Any], ctypes.CDLL]] = {}


def _built(name: str, config: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], ctypes.CDLL]:
    key = (name, config)
    if key not in _BUILT:
        d = tmp_path_factory.mktemp(f"{name}-{config}")
        (d / "model.tar").write_bytes(archive_bytes(compile_model(MODELS[name](), resolve(PACKED_CONFIGS[config]))))
        _BUILT[key] = load_archive(d / "model.tar", d / "x")
    return _BUILT[key]


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("config", sorted(PACKED_CONFIGS))
@pytest.mark.parametrize("name", sorted(MODELS))
def test_packed_entry_matches_onnxruntime(name: str, config: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    meta, lib = _built(name, config, tmp_path_factory)
    assert meta["entry_point"] == "tvmgen_default_run"
    model = MODELS[name]()
    inputs = random_inputs(model)
    got = run_packed_entry(meta, lib, inputs)
    want = reference(model, inputs)
    assert sorted(got) == sorted(want)
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
@pytest.mark.parametrize("config, who", [("packed-ops", "tvmgen_default___tvm_main__"),
                                         ("unpacked-ops+link-params", "tvmgen_default_run")])
def test_packed_entry_rejects_bad_arguments_with_a_message(config: str, who: str,
                                                           tmp_path_factory: pytest.TempPathFactory) -> None:
    _, lib = _built("mlp", config, tmp_path_factory)
    run = entry_function(lib, "default")
    keep: list[object] = []
    x, y = aligned(np.zeros((2, 16), np.float32)), aligned(np.zeros((2, 10), np.float32))
    assert call_packed(run, [dltensor(x, keep)]) == -1
    assert last_error(lib) == "TypeError: tvmgen_default_run: expected 2 arguments (x, y: the inputs, then the outputs)"
    assert call_packed(run, [dltensor(aligned(np.zeros((2, 15), np.float32)), keep), dltensor(y, keep)]) == -1
    # Unpacked main: the wrapper checks; packed main: main's own MakePackedAPI checks.
    assert last_error(lib).startswith(f"ValueError: {who}: argument #0 (x) expects shape[1] == 16")
    assert call_packed(run, [dltensor(x, keep), dltensor(aligned(np.zeros((2, 10), np.uint8)), keep)]) == -1
    assert last_error(lib) == f"TypeError: {who}: argument #1 (y) expects dtype float32"
    # Data 4 bytes past a 64-byte boundary: the promise of every buffer parameter is checked.
    shifted = aligned(np.zeros(2 * 10 + 1, np.float32))[1:].reshape(2, 10)
    assert call_packed(run, [dltensor(x, keep), dltensor(shifted, keep, misaligned_ok=True)]) == -1
    assert last_error(lib).endswith("argument #1 (y) expects data aligned to 64 bytes"), last_error(lib)
    assert K_DLTENSOR == 7 and call_packed(run, [dltensor(x, keep), dltensor(y, keep)]) == 0


def test_c_backend_calls_only_packed_functions_it_defines() -> None:
    from tir_lsp.compiler.backend.c_codegen import emit_c
    from tir_lsp.compiler.text.reader import read_tir

    text = '''# from tvm.script import tirx as T

@T.prim_func
def main(A: T.handle("float32")) -> T.int32:
    if T.call_cpacked("elsewhere", T.tvm_stack_make_array(A, T.tvm_stack_make_shape(4), 0, 1, T.float32(0.0), 0), T.reinterpret("handle", T.uint64(0))) != 0:
        return -1
    return 0
'''
    with pytest.raises(CompilerError) as info:
        emit_c(read_tir(text, "m.tir").module)
    (d,) = info.value.diagnostics
    assert (d.code, d.span.line) == ("TIR202", 5)
    assert d.message == ('C backend: T.call_cpacked of "elsewhere", which this module does not define (C calls packed '
                         "functions directly by symbol)")
