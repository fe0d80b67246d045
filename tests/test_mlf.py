"""``tirc build`` and the Model Library Format archive it writes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import onnx
import pytest
from aot_models import mlp, resblock

from tir_lsp.compiler.cli import UsageError
from tir_lsp.compiler.cli_build import add_build_parser, cmd_build, read_archive
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.text.reader import read_tir


def _build(tmp_path: Path, model: onnx.ModelProto, *flags: str, out: str = "out.tar") -> dict[str, bytes]:
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    parser = argparse.ArgumentParser()
    add_build_parser(parser.add_subparsers())
    args = parser.parse_args(["build", str(src), "-o", str(tmp_path / out), *flags])
    assert cmd_build(args) == 0
    return read_archive(tmp_path / out)


C_FLAGS = ("--executor", "aot", "--interface-api", "c", "--unpacked-api")


def test_archive_layout_and_metadata(tmp_path: Path) -> None:
    files = _build(tmp_path, resblock(), *C_FLAGS, "--model-name", "res")
    assert sorted(files) == [
        "codegen/host/include/tir_runtime.h", "codegen/host/include/tvmgen_res.h",
        "codegen/host/src/res_lib0.c", "codegen/host/src/res_lib1.c", "metadata.json",
        "parameters/res.params.bin", "src/tir-0.txt", "src/tir-11.txt",
    ]
    meta = json.loads(files["metadata.json"])
    assert meta["model_name"] == "res" and meta["executor"] == "aot"
    assert meta["options"] == {"executor": "aot", "interface-api": "c", "unpacked-api": True, "runtime": "crt",
                               "link-params": False, "model-name": "res"}
    assert meta["inputs"] == [{"name": "x", "c_name": "x", "shape": [1, 4, 6, 6], "dtype": "float32", "size_bytes": 576}]
    assert [o["name"] for o in meta["outputs"]] == ["t", "y2"]
    assert meta["outputs"][0]["shape"] == [1, 6, 6, 4]
    # The peak includes the im2col columns a conv packs while it runs (36 pixels in 5 panels
    # of 8, times 4 channels x 3 x 3 taps: 5,760 bytes): 1,152 bytes without them.
    assert meta["memory"]["workspace_size_bytes"] == meta["memory"]["peak_live_bytes"] == 6912
    assert "tvmgen_res_fused_nn_conv2d_nn_batch_norm_nn_relu/conv2d_col" in meta["memory"]["pools"][0]["buffers"]
    assert meta["entry_point"] == "tvmgen_res_run"


def test_tir_in_the_archive_reads_back_and_describes_its_options(tmp_path: Path) -> None:
    files = _build(tmp_path, mlp(), *C_FLAGS, "--print-after", "FlattenBuffer,MakeUnpackedAPI")
    stages = sorted(k for k in files if k.startswith("src/"))
    assert stages == ["src/tir-0.txt", "src/tir-10.txt", "src/tir-4.txt"]
    for k in stages:
        result = read_tir(files[k].decode(), k)
        assert [d for d in result.diagnostics if d.severity == "error"] == []
        assert result.module.attrs["interface-api"] == "c"
    assert "__tvm_main__(x: T.handle(\"float32\"" in files["src/tir-10.txt"].decode()


def test_interface_c_source_calls_main_with_the_static_pool(tmp_path: Path) -> None:
    files = _build(tmp_path, mlp(), *C_FLAGS, "--link-params")
    lib0 = files["codegen/host/src/default_lib0.c"].decode()
    assert "static uint8_t tvmgen_default_global_workspace[256] __attribute__((aligned(64)));" in lib0
    assert ("return tvmgen_default___tvm_main__((float*)inputs->x, (float*)outputs->y, (float*)(tvmgen_default_params0 + 0), "
            "(float*)(tvmgen_default_params0 + 2048), (float*)(tvmgen_default_params0 + 2176), "
            "(float*)(tvmgen_default_params0 + 3456), tvmgen_default_global_workspace);") in lib0
    # The weights: bytes in their own file (16x32 floats, then 32 rounded up to 64 bytes...).
    assert "const unsigned char tvmgen_default_params0[3520]" in files["codegen/host/src/default_params0.c"].decode("latin-1")


def test_refuses_to_replace_a_file_tirc_did_not_write(tmp_path: Path) -> None:
    (tmp_path / "out.tar").write_text("precious")
    with pytest.raises(UsageError, match="exists and was not written by tirc; use --force"):
        _build(tmp_path, mlp(), *C_FLAGS)
    assert (tmp_path / "out.tar").read_text() == "precious"
    # An archive tirc wrote is replaced without --force.
    _build(tmp_path, mlp(), *C_FLAGS, out="again.tar")
    _build(tmp_path, mlp(), *C_FLAGS, out="again.tar")


def test_invalid_options_fail_before_writing(tmp_path: Path) -> None:
    with pytest.raises(CompilerError) as info:
        _build(tmp_path, mlp(), "--executor", "graph", "--unpacked-api")
    assert info.value.diagnostics[0].code == "TIR107"
    assert not (tmp_path / "out.tar").exists()


def test_deprecated_target_string_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _build(tmp_path, mlp(), "--target", "c -executor=aot -interface-api=c -unpacked-api=1")
    err = capsys.readouterr().err
    assert "tirc: warning: option unpacked-api inside the target string is deprecated; pass --unpacked-api instead" in err


def test_the_checker_accepts_every_stage_in_the_archive(tmp_path: Path) -> None:
    from tir_lsp.compiler.analysis.run import analyze_text

    files = _build(tmp_path, mlp(), *C_FLAGS, "--link-params", "--print-after", "all")
    stages = sorted(k for k in files if k.startswith("src/"))
    assert len(stages) == 12
    for k in stages:
        assert analyze_text(files[k].decode(), k).diagnostics == [], k


def test_graph_of_the_generated_main(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tir_lsp.compiler.cli_build import add_graph_parser, cmd_graph

    files = _build(tmp_path, mlp(), *C_FLAGS)
    (tmp_path / "m.tir").write_bytes(files["src/tir-0.txt"])
    parser = argparse.ArgumentParser()
    add_graph_parser(parser.add_subparsers())
    capsys.readouterr()
    assert cmd_graph(parser.parse_args(["graph", str(tmp_path / "m.tir")])) == 0
    data = json.loads(capsys.readouterr().out)
    assert [n["op"] for n in data["nodes"]] == ["tvmgen_default_fused_nn_matmul_add_nn_relu",
                                                "tvmgen_default_fused_nn_dense_sigmoid"]
    assert data["edges"] == [{"from": 0, "to": 1, "tensor": "sid_1"}]
    assert cmd_graph(parser.parse_args(["graph", str(tmp_path / "m.tir"), "--format", "dot"])) == 0
    assert 'n0 -> n1 [label="sid_1"];' in capsys.readouterr().out


def test_packed_interface_archive_has_the_packed_entry(tmp_path: Path) -> None:
    files = _build(tmp_path, mlp(), "--executor", "aot", "--interface-api", "packed")
    meta = json.loads(files["metadata.json"])
    assert meta["entry_point"] == "tvmgen_default_run"
    assert meta["options"]["unpacked-api"] is False
    h = files["codegen/host/include/tvmgen_default.h"].decode()
    assert ("int32_t tvmgen_default_run(void* args, int32_t* arg_type_ids, int32_t num_args, void* out_ret_value, "
            "int32_t* out_ret_tcode, void* resource_handle);") in h
    assert "#define TVMGEN_DEFAULT_WORKSPACE_SIZE 256" in h and "struct tvmgen_default_inputs" not in h
    lib1 = files["codegen/host/src/default_lib1.c"].decode()
    assert "int32_t tvmgen_default___tvm_main__(void* args, int32_t* arg_type_ids" in lib1


@pytest.mark.parametrize("flags", [("--executor", "aot"), ("--executor", "aot", "--unpacked-api", "--link-params")])
def test_the_checker_accepts_every_stage_of_a_packed_interface_build(tmp_path: Path, flags: tuple[str, ...]) -> None:
    # Before MakePackedAPI, main calls still-unlowered operators with T.call_cpacked: the
    # module's options say they will be lowered packed, so that is not TIR102.
    from tir_lsp.compiler.analysis.run import analyze_text

    files = _build(tmp_path, mlp(), *flags, "--print-after", "all")
    stages = sorted(k for k in files if k.startswith("src/"))
    assert len(stages) == 12
    for k in stages:
        assert analyze_text(files[k].decode(), k).diagnostics == [], k


def test_graph_build_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = _build(tmp_path, resblock(), "--executor", "graph")
    assert json.loads(files["executor-config/graph/graph.json"])["heads"] == [[11, 0, 0], [13, 0, 0]]
    assert "tirc: wrote" in capsys.readouterr().err
