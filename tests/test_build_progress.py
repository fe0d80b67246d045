"""``tirc build`` progress: one redrawn line on a terminal, nothing in a pipe unless
``--progress``, never with ``--no-progress``; and the per-function lowering behind it keeps
the TIR stages the whole-module pipeline gives."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

import onnx
from aot_models import mlp
from onnx import helper

from tir_lsp.compiler.cli_build import ProgressLine, progress_for
from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.transform.pass_api import PipelineOptions
from tir_lsp.compiler.transform.pipeline import run_pipeline

C_OPTS = ["--executor", "aot", "--interface-api", "c", "--unpacked-api"]
MLP_STEPS = ["fused_nn_matmul_add_nn_relu", "fused_nn_dense_sigmoid", "__tvm_main__"]


def _tirc(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from tir_lsp.compiler.cli import main; sys.exit(main())", *args]


def _model_file(tmp_path: Path, model: onnx.ModelProto | None = None) -> Path:
    path = tmp_path / "model.onnx"
    onnx.save(model or mlp(), str(path))
    return path


def _run_on_a_terminal(cmd: list[str], cwd: Path) -> tuple[int, str]:
    """Run ``cmd`` with stderr on a pseudo-terminal; (exit code, what the terminal got)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=60), b"".join(chunks).decode()


def test_compile_model_reports_each_step_in_order() -> None:
    seen: list[tuple[str, int, int, str]] = []
    compile_model(mlp(), resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True}),
                  progress=lambda *step: seen.append(step))
    assert seen == [("import", 0, 1, "model"), ("generate", 0, 1, "")] + [
        ("lower", k, 3, f"tvmgen_default_{name}") for k, name in enumerate(MLP_STEPS)] + [("emit", 0, 1, "")]


def test_per_function_lowering_keeps_the_whole_module_stages() -> None:
    options = resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True})
    compiled = compile_model(mlp(), options, print_after="all")
    whole: dict[str, str] = {}

    def keep(name: str, mod: IRModule, when: str) -> None:
        whole[name] = print_module(mod)

    lowered = run_pipeline(compiled.program.module, PipelineOptions(unpacked_api=True, print_after="all", on_stage=keep))
    assert print_module(compiled.lowered) == print_module(lowered)
    assert len(compiled.tir_stages) == 12  # tir-0 (as generated) and one per pass
    assert compiled.tir_stages["tir-4.txt"].endswith(whole["FlattenBuffer"])


def test_progress_line_redraws_on_a_terminal_and_clears() -> None:
    out = io.StringIO()
    line = ProgressLine(out, redraw=True, prefix="tvmgen_net_")
    line("lower", 11, 50, "tvmgen_net_fused_nn_conv2d_add_nn_relu_3")
    line("emit", 0, 1, "")
    line.clear()
    assert out.getvalue() == "\r[12/50] lowering fused_nn_conv2d_add_nn_relu_3\x1b[K\remitting C\x1b[K\r\x1b[K"


def test_progress_line_in_a_log_is_one_line_per_step() -> None:
    out = io.StringIO()
    line = ProgressLine(out, redraw=False)
    line("import", 0, 1, "net.onnx")
    line("lower", 0, 2, "tvmgen_default_fused_add")
    line.clear()  # nothing to erase
    assert out.getvalue() == "tirc: importing net.onnx\ntirc: [1/2] lowering tvmgen_default_fused_add\n"


def test_progress_is_off_in_a_pipe_unless_asked() -> None:
    pipe = io.StringIO()  # isatty() is False
    assert progress_for(None, pipe) is None
    assert progress_for(False, pipe) is None
    shown = progress_for(True, pipe)
    assert shown is not None and not shown.redraw


def test_build_in_a_pipe_prints_only_the_summary(tmp_path: Path) -> None:
    model = _model_file(tmp_path)
    proc = subprocess.run(_tirc("build", str(model), "-o", "out.tar", *C_OPTS), cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("tirc: wrote out.tar: 2 operators") and proc.stderr.count("\n") == 1
    assert "\r" not in proc.stderr


def test_build_in_a_pipe_with_progress_logs_each_step(tmp_path: Path) -> None:
    model = _model_file(tmp_path)
    proc = subprocess.run(_tirc("build", str(model), "-o", "out.tar", "--progress", *C_OPTS), cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[:2] == [f"tirc: importing {model}", "tirc: generating TIR"]
    assert lines[2:5] == [f"tirc: [{k + 1}/3] lowering {name}" for k, name in enumerate(MLP_STEPS)]
    assert lines[5:7] == ["tirc: emitting C", "tirc: writing out.tar"]
    assert lines[7].startswith("tirc: wrote out.tar")


def test_build_on_a_terminal_redraws_one_line_then_erases_it(tmp_path: Path) -> None:
    model = _model_file(tmp_path)
    code, seen = _run_on_a_terminal(_tirc("build", str(model), "-o", "out.tar", *C_OPTS), tmp_path)
    assert code == 0, seen
    assert "\r[2/3] lowering fused_nn_dense_sigmoid\x1b[K" in seen
    # The line is erased before the summary, which starts a clean line.
    assert "\rwriting out.tar\x1b[K\r\x1b[Ktirc: wrote out.tar: 2 operators" in seen
    assert "\n" not in seen.split("tirc: wrote")[0]


def test_no_progress_on_a_terminal_is_quiet(tmp_path: Path) -> None:
    model = _model_file(tmp_path)
    code, seen = _run_on_a_terminal(_tirc("build", str(model), "-o", "out.tar", "--no-progress", *C_OPTS), tmp_path)
    assert code == 0, seen
    assert seen.startswith("tirc: wrote out.tar") and "\r\x1b" not in seen


def test_an_import_error_on_a_terminal_starts_a_clean_line(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Gelu", ["x"], ["y"], name="act")], "g", [x], [y])
    model = _model_file(tmp_path, helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8))
    code, seen = _run_on_a_terminal(_tirc("build", str(model), "-o", "out.tar", *C_OPTS), tmp_path)
    assert code == 1
    assert f"\r\x1b[K{model}: error: ONNX import: node act (Gelu): operator Gelu is not supported" in seen
    assert "Traceback" not in seen and not (tmp_path / "out.tar").exists()


def test_summary_counts_operators_pool_weights_and_c(tmp_path: Path) -> None:
    import re

    model = _model_file(tmp_path)
    proc = subprocess.run(_tirc("build", str(model), "-o", "out.tar", "--link-params", "--progress", *C_OPTS), cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    # Linking weights is a step of its own (it is the long one on a real model).
    assert "tirc: emitting C weights (3496 bytes)" in lines
    summary = lines[-1]
    assert summary.startswith("tirc: wrote out.tar: 2 operators (fused from 5 nodes: Add 1, Gemm 1, MatMul 1, Relu 1, Sigmoid 1), "
                              "workspace 256 bytes (peak live 256, naive 256), weights 3496 bytes linked in, C "), summary
    from tir_lsp.compiler.cli_build import read_archive

    files = read_archive(tmp_path / "out.tar")
    c_bytes = sum(len(v) for k, v in files.items() if k.startswith("codegen/host/src/"))
    assert re.search(rf", C {c_bytes} bytes in 3 files, [0-9.]+ s$", summary), summary


def test_graph_summary_names_the_intermediate_storage(tmp_path: Path) -> None:
    model = _model_file(tmp_path)
    proc = subprocess.run(_tirc("build", str(model), "-o", "out.tar", "--executor", "graph"), cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "operators (fused from 5 nodes" in proc.stderr and ", intermediate storage 256 bytes" in proc.stderr
    assert "weights 3496 bytes in parameters/default.params.npz" in proc.stderr
