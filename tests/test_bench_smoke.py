"""The speed benchmarks still work: their own-side functions on the smallest kernels, one run.

Only our side is exercised (no TVM), so these always run; the timings themselves are not
tested (benchmarks are not timed tests).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bench_modules import load_bench

bench_lower = load_bench("bench_lower")
bench_c_perf = load_bench("bench_c_perf")
needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")


def test_default_kernels_exist_in_the_corpus() -> None:
    for k in bench_lower.KERNELS:
        assert bench_lower.kernel_path(k).exists(), k
    for k in bench_c_perf.KERNELS:
        assert (bench_c_perf.CORPUS / k / "ref.npz").exists(), k


def test_lower_ours_times_one_run_with_and_without_parse() -> None:
    path = bench_lower.kernel_path("relu_f32")
    for parse in (False, True):
        times = bench_lower.time_ours(path, reps=1, warmup=0, parse=parse)
        assert len(times) == 1 and times[0] > 0


def test_lower_ours_emits_the_packed_entry_point() -> None:
    text = bench_lower.kernel_path("relu_f32").read_text()
    c = bench_lower.lower_ours(bench_lower.read_module(text, "relu_f32"))
    # The packed API, like TVM's c target: (args, type codes, count, ret value, ret code, resource).
    assert "int32_t main_func(void*" in c


def test_lower_table_and_verdict() -> None:
    rows = [bench_lower.Row("k", 10, ours=2.0, tvm=4.0, ours_parse=3.0, tvm_parse=1.5)]
    table = bench_lower.render(rows, "0.27.0.post1", 20, (1.0, 2.0)).splitlines()
    assert table[4] == "| k | 10 | 2.00 | 4.00 | 0.50 | 3.00 | 1.50 | 2.00 |"
    assert table[-2] == "lower only: ours is 2.00x faster than TVM (geomean over kernels)"
    assert table[-1] == "parse + lower: ours is 2.00x slower than TVM (geomean over kernels)"


def test_harness_declares_the_unpacked_kernel() -> None:
    params = bench_c_perf.kernel_params(bench_c_perf.CORPUS / "relu_f32")
    src = bench_c_perf.harness_source("main_func", params)
    assert "int32_t main_func(float*, float*);" in src
    assert '  save("out1.bin", a1, 1024);' in src  # Out: 16x16 float32, the only output


@needs_gcc
def test_c_perf_ours_runs_and_matches_ref(tmp_path: Path) -> None:
    kdir = bench_c_perf.CORPUS / "matmul_f32"
    exe = bench_c_perf.build_ours(kdir, tmp_path)
    times = bench_c_perf.run_ours(exe, warmup=0, reps=1)
    assert len(times) == 1 and times[0] >= 0
    ok, err = bench_c_perf.check_ours(kdir, tmp_path)
    assert ok and err < 1e-4


@needs_gcc
def test_c_perf_check_catches_a_wrong_kernel(tmp_path: Path) -> None:
    kdir = bench_c_perf.CORPUS / "matmul_f32"
    source, _ = bench_c_perf.lower_to_c(kdir)
    assert "= 0.0f;" in source  # the reduction's init
    exe = bench_c_perf.build_ours(kdir, tmp_path, c_source=source.replace("= 0.0f;", "= 1.0f;", 1))
    bench_c_perf.run_ours(exe, warmup=0, reps=0)
    ok, err = bench_c_perf.check_ours(kdir, tmp_path)
    assert not ok and err == pytest.approx(1.0, abs=1e-3)


@needs_gcc
def test_models_row_for_squeezenet(tmp_path: Path) -> None:
    """One row of bench/bench_models.py, through the code the benchmark runs: our C (built,
    run without heap, compared with onnxruntime) and, when TIR_TVM_PYTHON names TVM's
    interpreter (CI sets it), TVM's untuned llvm build of the same ONNX model, cached."""
    import os

    bench_models = load_bench("bench_models")
    tvm = None
    if os.environ.get("TIR_TVM_PYTHON"):
        tvm = bench_models.TvmSide(tmp_path / "tvm.json", refresh=False, target="llvm")
    work = tmp_path / "work"
    try:
        r = bench_models.bench("squeezenet", 1, False, "-O0", work, tvm)
    finally:
        if tvm is not None:
            tvm.close()
    assert r["top1"] and r["max_abs"] < 1e-4 and r["c_ms"] > 0 and r["pool"] > 0
    assert r["c_cpu_ms"] > 0 and r["ort_cpu_ms"] > 0
    row = bench_models.row(r)
    assert row.startswith("| squeezenet | ") and row.count("|") == 18
    if tvm is not None:
        t = r["tvm"]
        assert t["max_abs"] < 1e-4 and t["ms"] > 0 and not t["cached"]
        cached = bench_models.TvmSide(tmp_path / "tvm.json", refresh=False, target="llvm")
        (only,) = cached.cache.values()
        assert only["version"].startswith("0.27") and only["date"] and only["ms"] == t["ms"]


@needs_gcc
def test_c_perf_side_by_side_times_both_on_the_same_tensors(tmp_path: Path) -> None:
    """bench_c_perf's timing: TVM's worker loads our kernel's library and calls both on TVM's
    own (64-byte aligned) tensors in turn; our outputs there are checked against ref.npz."""
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from tvm_reference import tvm_python

    if tvm_python() is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install TVM 0.27 (see .ci/run)")
        pytest.skip("no TVM 0.27 interpreter (set TIR_TVM_PYTHON)")
    rows, version = bench_c_perf.measure(["matmul_f32"], reps=6, rounds=2, cflags="-O2", tvm_target="llvm",
                                         workroot=tmp_path)
    (r,) = rows
    assert version.startswith("0.27") and r.checked and r.ours_err < 1e-4
    assert r.ours > 0 and r.tvm > 0 and r.ours_min <= r.ours and r.tvm_min <= r.tvm
    table = bench_c_perf.render(rows, version, 6, "-O2", "llvm", (0.0, 0.0))
    assert "side by side in one process" in table and "| matmul_f32 |" in table
