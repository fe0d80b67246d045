"""The build benchmark still works (bench/bench_build.py), in its tiny mode: the 50-node model,
one timed build with every phase, the memory table; and the model itself compiles to C that
gcc accepts with -Werror (linked params) and matches onnxruntime. Timings are not tested."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from aot_models import HAVE_GCC, random_inputs, reference, run_archive
from bench_modules import load_bench

from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.mlf import archive_bytes
from tir_lsp.compiler.executor.options import resolve

bench_build = load_bench("bench_build")


def test_the_model_has_fifty_nodes_of_a_real_cnn() -> None:
    model = bench_build.cnn50("tiny")
    ops = [n.op_type for n in model.graph.node]
    assert len(ops) == 50
    assert {"Conv", "BatchNormalization", "Relu", "MaxPool", "Add", "Concat", "GlobalAveragePool", "Gemm",
            "Softmax"} <= set(ops)
    assert ops.count("Conv") == 16


def test_one_tiny_build_times_every_phase() -> None:
    t = bench_build.build_once(bench_build.cnn50("tiny"))
    assert list(t.phases) == list(bench_build.PHASES)
    assert t.operators == 26 and t.size > 0 and t.wall > 0


def test_tiny_run_prints_both_tables(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_build.main(["--size", "tiny", "--reps", "1", "--no-process"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("## tirc build: 50 ONNX nodes -> 26 fused operators (median of 1")
    assert "| in process, --link-params | " in out
    # Every test model's workspace is the peak live set.
    for name in ("mlp", "lenet", "resblock", "cnn50 (tiny)"):
        row = next(line for line in out.splitlines() if line.startswith(f"| {name} |"))
        assert row.split(" | ")[3] == "1.00", row


@pytest.mark.skipif(not HAVE_GCC, reason="needs gcc")
def test_tiny_model_with_linked_params_matches_onnxruntime(tmp_path: Path) -> None:
    model = bench_build.cnn50("tiny")
    compiled = compile_model(model, resolve({**bench_build.OPTIONS, "link-params": True}))
    archive = tmp_path / "model.tar"
    archive.write_bytes(archive_bytes(compiled))
    inputs = random_inputs(model)
    got = run_archive(archive, tmp_path / "x", inputs)  # gcc -Wall -Wextra -Werror
    want = reference(model, inputs)
    np.testing.assert_allclose(got["y"], want["y"], rtol=1e-4, atol=1e-5)
