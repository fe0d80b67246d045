"""Weights as data: ``tirc build`` streams them (c_bytes.literal_pieces, streamed.StreamedFile,
mlf.write_archive) and reads a model file's weights in place (frontend/onnx_mapped), with
the same bytes as the in-memory path, in about the weights' size of memory; and
``--link-params-format incbin`` compiles them in as raw files the assembler includes."""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import onnx
import pytest
from aot_models import HAVE_GCC, reference, run_archive
from onnx import TensorProto, helper, numpy_helper
from test_c_bytes import NASTY

from tir_lsp.compiler.cli_build import add_build_parser, cmd_build
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.executor import c_bytes
from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.c_bytes import c_string_literal, literal_pieces, literal_size
from tir_lsp.compiler.executor.mlf import archive_bytes, write_archive
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.frontend.onnx_import import import_onnx

C_OPTS = {"executor": "aot", "interface-api": "c", "unpacked-api": True}
CLI_C = ("--executor", "aot", "--interface-api", "c", "--unpacked-api")


def dense_model(k: int, n: int, seed: int = 0, fill: str = "random") -> onnx.ModelProto:
    """y = relu(x @ w^T + b) @ w2^T: one weight of k x n float32 (``fill`` "ramp" makes it
    fast to generate for big sizes), bias, a 10-way head."""
    r = np.random.default_rng(seed)
    if fill == "random":
        w = (r.standard_normal((k, n)) * 0.05).astype(np.float32)
    else:
        w = (np.arange(k * n, dtype=np.float32).reshape(k, n) % 251) * 1e-4
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["h"], transB=1), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2"], ["y"], transB=1)]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array((r.standard_normal(k) * 0.1).astype(np.float32), "b"),
             numpy_helper.from_array((r.standard_normal((10, k)) * 0.1).astype(np.float32), "w2")]
    g = helper.make_graph(nodes, "dense", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _cli_build(tmp_path: Path, model: onnx.ModelProto, *flags: str) -> Path:
    src = tmp_path / "model.onnx"
    onnx.save(model, src)
    parser = argparse.ArgumentParser()
    add_build_parser(parser.add_subparsers())
    out = tmp_path / "out.tar"
    assert cmd_build(parser.parse_args(["build", str(src), "-o", str(out), "--no-progress", *flags])) == 0
    return out


def test_literal_in_pieces_is_the_literal_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c_bytes, "_BLOCK", 4 * c_bytes.LINE)
    data = NASTY * 5 + b"?" * 3000
    whole = c_string_literal(data)
    r = np.random.default_rng(1)
    for _ in range(20):
        cuts = sorted(set(r.integers(0, len(data), size=int(r.integers(1, 12))).tolist()))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])]
        assert b"".join(literal_pieces(pieces)) == whole
        assert literal_size(pieces) == len(whole)
    # A "?" that ends one piece and one that starts the next still make no trigraph.
    assert b"".join(literal_pieces([b"a?", b"?=b"])) == c_string_literal(b"a??=b") == b'"a?\\077=b"'


@pytest.mark.parametrize("options", [
    {**C_OPTS, "link-params": True}, {**C_OPTS, "link-params": True, "link-params-format": "incbin"}, C_OPTS,
    {"executor": "graph", "link-params": True}, {"executor": "graph", "link-params": True, "link-params-format": "incbin"},
    {"executor": "graph"}], ids=["aot-linked", "aot-incbin", "aot-blob", "graph-linked", "graph-incbin", "graph-npz"])
def test_streamed_build_writes_the_same_archive_as_the_in_memory_one(options: dict[str, object], tmp_path: Path) -> None:
    # Weights big enough to be read in place from the file (onnx_mapped.MIN_MAPPED) and to
    # span several blocks of the literal.
    model = dense_model(64, 8192)
    in_memory = archive_bytes(compile_model(model, resolve(options)))
    flags = [f"--{k}={v}" if not isinstance(v, bool) else f"--{k}" for k, v in options.items()]
    streamed = _cli_build(tmp_path, model, *flags).read_bytes()
    assert streamed == in_memory
    c = compile_model(tmp_path / "model.onnx", resolve(options), stream_weights=True)
    out = io.BytesIO()
    write_archive(c, out)
    assert out.getvalue() == in_memory


def test_a_file_s_weights_are_read_in_place_with_the_same_values(tmp_path: Path) -> None:
    model = dense_model(64, 8192)
    onnx.save(model, tmp_path / "m.onnx")
    from_file = import_onnx(tmp_path / "m.onnx")
    from_proto = import_onnx(model)
    assert from_file.constants.keys() == from_proto.constants.keys()
    for name, value in from_proto.constants.items():
        got = from_file.constants[name]
        assert got.dtype == value.dtype and got.shape == value.shape and np.array_equal(got, value)
    w = from_file.constants["w"]
    assert w.base is not None and not w.flags.owndata  # a view of the mapped file, not a copy


def test_a_model_file_with_a_short_weight_is_a_clear_error(tmp_path: Path) -> None:
    model = dense_model(64, 8192)
    w = next(i for i in model.graph.initializer if i.name == "w")
    w.raw_data = w.raw_data[:-4]  # one float short of its shape
    onnx.save(model, tmp_path / "m.onnx")
    with pytest.raises(CompilerError) as exc:
        compile_model(tmp_path / "m.onnx", resolve({**C_OPTS, "link-params": True}))
    (d,) = exc.value.diagnostics
    assert d.code == "TIR203" and d.message.startswith("ONNX import: initializer w: cannot read its data")


def test_a_truncated_model_file_is_a_clear_error(tmp_path: Path) -> None:
    onnx.save(dense_model(64, 8192), tmp_path / "m.onnx")
    data = (tmp_path / "m.onnx").read_bytes()
    (tmp_path / "m.onnx").write_bytes(data[:len(data) // 2])  # cut inside the big weight
    with pytest.raises(CompilerError) as exc:
        compile_model(tmp_path / "m.onnx", resolve(C_OPTS))
    (d,) = exc.value.diagnostics
    assert d.code == "TIR203" and "not an ONNX model" in d.message


def test_link_params_format_from_each_source(tmp_path: Path) -> None:
    from tir_lsp.compiler.executor.options import read_config

    assert resolve({**C_OPTS, "link-params": True}).link_params_format == "c"
    cfg = tmp_path / "opts.json"
    cfg.write_text('{"link-params": true, "link-params-format": "incbin"}')
    assert resolve({}, read_config(cfg)).link_params_format == "incbin"
    # Not a TIR-level option: the modules' attributes do not change with it.
    assert "link-params-format" not in resolve({}, read_config(cfg)).module_attrs()
    with pytest.raises(CompilerError) as exc:
        resolve({**C_OPTS, "link-params-format": "incbin"})
    assert "add --link-params" in exc.value.diagnostics[0].message
    with pytest.raises(CompilerError) as exc:
        resolve({**C_OPTS, "link-params": True, "link-params-format": "hex"})
    assert "link-params-format='hex' is not one of c, incbin" in exc.value.diagnostics[0].message


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_incbin_weights_compile_and_match_onnxruntime(tmp_path: Path) -> None:
    model = dense_model(64, 8192, seed=3)
    archive = _cli_build(tmp_path, model, *CLI_C, "--link-params", "--link-params-format", "incbin")
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        asm = tar.extractfile("./codegen/host/src/default_params0.c").read()  # type: ignore[union-attr]
        blob = tar.extractfile("./codegen/host/src/default_params0.c.bin").read()  # type: ignore[union-attr]
    assert "./codegen/host/src/default_params0.c.bin" in names
    assert b".incbin" in asm and len(asm) < 2000 and len(blob) == 64 * 8192 * 4 + 64 * 4 + 10 * 64 * 4
    x = np.random.default_rng(0).standard_normal((1, 8192)).astype(np.float32)
    got = run_archive(archive, tmp_path / "run", {"x": x})["y"]
    want = reference(model, {"x": x})["y"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # A wrong .bin stops the assembler with a message that names it.
    src = tmp_path / "run/codegen/host/src"
    (src / "default_params0.c.bin").write_bytes(blob[:1000])
    cc = subprocess.run(["gcc", "-c", str(src / "default_params0.c"), "-o", str(tmp_path / "p.o")], capture_output=True,
                        text=True, check=False)
    assert cc.returncode != 0 and "default_params0.c.bin must hold the" in cc.stderr


_MEASURE = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _peak_rss_mb(cmd: list[str], cwd: Path) -> float:
    """Peak resident memory of ``cmd``, run by a small Python of its own (a child's peak
    starts at its parent's RSS: the test process may be big)."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], cwd=cwd, capture_output=True, text=True, check=False,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert out.returncode == 0, out.stderr[-2000:]
    return int(out.stdout.split()[-1]) / 1024


def test_linking_a_big_weight_takes_about_its_size_of_memory(tmp_path: Path) -> None:
    """A 64 MiB weight: the build holds it about once (mapped from the file) plus a fixed
    overhead; the in-memory path held it ~5 times (~400 MB here)."""
    mib = 1 << 20
    model = dense_model(256, 64 * mib // (256 * 4), fill="ramp")
    onnx.save(model, tmp_path / "big.onnx")
    del model
    peak = _peak_rss_mb([sys.executable, "-m", "tir_lsp.compiler.cli", "build", str(tmp_path / "big.onnx"), "-o", "big.tar",
                         *CLI_C, "--link-params", "--no-progress"], tmp_path)
    assert (tmp_path / "big.tar").stat().st_size > 64 * mib
    assert peak < 64 + 128, f"tirc build of a 64 MiB weight peaked at {peak:.0f} MB"
