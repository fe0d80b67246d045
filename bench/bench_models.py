"""The nine real CNNs of the onnx package (``onnx/backend/test/data/light``) compiled to C
and run, against onnxruntime.

    .venv/bin/python bench/bench_models.py [--models squeezenet,resnet50] [--runs 3]
                                           [--link-params [--link-params-format c|incbin]] [-O2]
                                           [--native] [--no-tvm] [--refresh] [--tvm-cache FILE]

Each model gets seeded, calibrated weights (tests/light_models.py), saved to an ONNX file.
Per model it prints: build s and build peak MB (what ``tirc build`` does, in this process:
``compile_model`` of the file, import, TIR, lowering, C, then the archive and the C files
written to disk as they are made; the peak is this process's peak resident memory while
building, reset first through /proc/self/clear_refs, so it includes the process's own
baseline, printed in the header), the archive's size, gcc s and gcc's peak memory (all C of
the model, one gcc call), C ms (median run of the typed C interface,
timed inside the program) vs onnxruntime ms (median, one thread) vs TVM ms (TVM 0.27's
Relax ONNX frontend, ``tvm.compile`` untuned for llvm, median of the VM's time_evaluator,
TVM_NUM_THREADS=1), the CPU time of the same runs of ours and of onnxruntime (medians;
steadier than wall time on a shared machine) and their ratio, the workspace pool bytes, the
weights' bytes, the max abs error of ours
and of TVM against onnxruntime, and whether our top-1 agrees. The generated program also
links a ``malloc`` that aborts while the model runs: a model that allocated would stop the
row with an error.

Same ISA on both sides: by default gcc gets no ``-march`` and TVM the plain ``llvm`` target
(both baseline x86-64, SSE2); ``--native`` gives gcc ``-march=native`` and TVM ``mcpu`` = the
CPU name gcc picks for native (LLVM 0.27 does not resolve ``mcpu=native``).

TVM runs in its own interpreter (bench/_tvm_side.py; ``$TIR_TVM_PYTHON``, skipped if there is
none, or with ``--no-tvm``). Its builds of the big models take minutes, so its figures are
kept in ``--tvm-cache`` (default bench/tvm_models.json), keyed by model, weights hash, target
and threads, each entry with the TVM version, date and load average it was measured at;
``--refresh`` measures again. Cached figures are marked ``(cached <date>)`` in the table.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from _tvm_side import TvmWorker, tvm_python
from light_models import NAMES, NO_MALLOC, input_of, with_weights

from tir_lsp.compiler.executor.build import compile_model
from tir_lsp.compiler.executor.c_interface import params_file, params_layout
from tir_lsp.compiler.executor.mlf import write_archive
from tir_lsp.compiler.executor.options import resolve
from tir_lsp.compiler.executor.streamed import StreamedFile, write_file


def _main_c(c: object, runs: int) -> str:
    p = c.program  # type: ignore[attr-defined]
    m = p.options.model_name
    lines = ["#define _POSIX_C_SOURCE 199309L", '#include "tir_runtime.h"', f'#include "tvmgen_{m}.h"', "#include <stdio.h>",
             "#include <time.h>", NO_MALLOC]
    body = ["int main(void) {", "  FILE* f;", f"  struct tvmgen_{m}_inputs in; struct tvmgen_{m}_outputs out;",
            "  double best[64], cpu[64]; int r;"]
    for k, (t, cname) in enumerate(p.input_names.items()):
        n = p.graph.tensors[t].size
        lines.append(f"static float in{k}[{n}] __attribute__((aligned(64)));")
        body.append(f"  f = fopen(\"in{k}.bin\", \"rb\"); if (!f || fread(in{k}, 4, {n}, f) != {n}) return 3; fclose(f);"
                    f" in.{cname} = in{k};")
    for k, (t, cname) in enumerate(p.output_names.items()):
        lines.append(f"static float out{k}[{p.graph.tensors[t].size}] __attribute__((aligned(64)));")
        body.append(f"  out.{cname} = out{k};")
    if p.param_names and not p.options.link_params:
        n = params_layout(p)[1]
        lines.append(f"static unsigned char params[{n}] __attribute__((aligned(64)));")
        body.append(f"  f = fopen(\"params.bin\", \"rb\"); if (!f || fread(params, 1, {n}, f) != {n}) return 3; fclose(f);")
        body.append(f"  if (tvmgen_{m}_load_params(params, {n}) != 0) return 4;")
    body += [f"  for (r = 0; r < {runs}; ++r) {{", "    struct timespec a, b, ca, cb;",
             "    clock_gettime(CLOCK_MONOTONIC, &a);", "    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);",
             "    forbid_malloc = 1;",
             f"    if (tvmgen_{m}_run(&in, &out) != 0) {{ forbid_malloc = 0; fprintf(stderr, \"%s\\n\", TVMGetLastError()); return 1; }}",
             "    forbid_malloc = 0;", "    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);", "    clock_gettime(CLOCK_MONOTONIC, &b);",
             "    best[r] = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;",
             "    cpu[r] = (cb.tv_sec - ca.tv_sec) * 1e3 + (cb.tv_nsec - ca.tv_nsec) / 1e6;", "  }",
             f"  for (r = 0; r < {runs}; ++r) printf(\"%f %f\\n\", best[r], cpu[r]);"]
    for k, (t, _) in enumerate(p.output_names.items()):
        body.append(f"  f = fopen(\"out{k}.bin\", \"wb\"); fwrite(out{k}, 4, {p.graph.tensors[t].size}, f); fclose(f);")
    body += ["  return 0;", "}"]
    return "\n".join(lines + body) + "\n"


def _gcc(args: list[str], cwd: Path) -> tuple[float, int, str]:
    """(seconds, peak RSS in MB, stderr) of one gcc call."""
    # GNU time measures gcc and its cc1 (a child forked from this process would report the
    # Python process's size: the peak RSS survives exec).
    t = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return time.perf_counter() - t, int(proc.stderr.split()[-1]) // 1024, proc.stderr


DEFAULT_CACHE = ROOT / "bench" / "tvm_models.json"


def native_cpu() -> str:
    """The CPU name gcc's ``-march=native`` resolves to (e.g. ``znver3``), for TVM's mcpu."""
    out = subprocess.run(["gcc", "-march=native", "-Q", "--help=target"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "-march=":
            return parts[1]
    raise RuntimeError("gcc does not report its -march=native CPU")


class TvmSide:
    """TVM's figures per model: from the cache file, or measured by one long-lived worker."""

    def __init__(self, cache: Path, refresh: bool, target: str) -> None:
        self.cache_path, self.refresh, self.target = cache, refresh, target
        self.cache: dict[str, dict[str, object]] = json.loads(cache.read_text()) if cache.exists() else {}
        self.worker: TvmWorker | None = None

    def key(self, name: str, model_bytes: bytes) -> str:
        return f"{name} {hashlib.sha256(model_bytes).hexdigest()[:16]} {self.target} threads=1"

    def figures(self, name: str, model_bytes: bytes, inputs: dict[str, np.ndarray], want: np.ndarray, runs: int,
                d: Path) -> dict[str, object]:
        """{"ms", "compile_s", "max_abs", "version", "date", "load", "cached"} for one model."""
        key = self.key(name, model_bytes)
        if key in self.cache and not self.refresh:
            return {**self.cache[key], "cached": True}
        if self.worker is None:
            self.worker = TvmWorker(env={"TVM_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}, share=("onnx", "google"))
            self.version = str(self.worker.ask("version")["version"])
        (d / "model.onnx").write_bytes(model_bytes)
        np.savez(d / "tvm_in.npz", **inputs)
        load = os.getloadavg()[0]
        r = self.worker.ask("onnx_model", model=str(d / "model.onnx"), inputs=str(d / "tvm_in.npz"),
                            outputs=str(d / "tvm_out.npz"), target=self.target, runs=runs)
        got = np.load(d / "tvm_out.npz")["arr_0"].reshape(want.shape)
        entry: dict[str, object] = {"ms": statistics.median(r["times_ms"]), "compile_s": r["compile_s"],
                                    "max_abs": float(np.abs(got - want).max()), "version": self.version,
                                    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                                    "load": round(load, 2), "runs": runs}
        self.cache[key] = entry
        self.cache_path.write_text(json.dumps(self.cache, indent=1, sort_keys=True) + "\n")
        return {**entry, "cached": False}

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()


def rss_mb(field: str = "VmHWM") -> int:
    """This process's resident memory (``VmRSS``) or its peak (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return 0


def reset_peak_rss() -> bool:
    """Make this process's peak resident memory its current one (Linux >= 4.0)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def bench(name: str, runs: int, link_params: bool, opt: str, work: Path, tvm: TvmSide | None = None,
          march: str | None = None, link_format: str | None = None) -> dict[str, object]:
    import onnx
    import onnxruntime as ort

    d = work / name
    (d / "include").mkdir(parents=True)
    model = with_weights(name)
    inputs = input_of(model)
    model_bytes = model.SerializeToString()
    (d / "model.onnx").write_bytes(model_bytes)
    del model
    import gc

    gc.collect()
    base = rss_mb("VmRSS")
    peak_known = reset_peak_rss()
    t = time.perf_counter()
    c = compile_model(d / "model.onnx", resolve({"executor": "aot", "interface-api": "c", "unpacked-api": True,
                                                  "link-params": link_params or None, "link-params-format": link_format,
                                                  "model-name": name}), stream_weights=True)
    with open(d / "model.tar", "wb") as f:
        write_archive(c, f)
    files: dict[str, str | bytes | StreamedFile] = {**c.sources, **c.data_files}
    p = c.program
    if p.param_names and not link_params:
        files["params.bin"] = params_file(p)
    for fname, text in files.items():
        with open(d / fname, "wb") as f:
            write_file(f, text)
    build_s = time.perf_counter() - t
    build_mb = rss_mb() if peak_known else None
    archive_mb = (d / "model.tar").stat().st_size / 1e6
    (d / "model.tar").unlink()
    for fname, text in c.includes.items():
        (d / "include" / fname).write_text(text)
    for k, t_name in enumerate(p.input_names):
        inputs[t_name].astype(np.float32).tofile(d / f"in{k}.bin")
    (d / "main.c").write_text(_main_c(c, runs))
    srcs = ["main.c", *(f for f in c.sources if f.endswith(".c"))]
    arch = [f"-march={march}"] if march else []
    gcc_s, gcc_mb, _ = _gcc(["gcc", "-std=c99", opt, *arch, "-Wall", "-Wextra", "-Werror", "-I", "include", *srcs, "-o", "model",
                             "-lm"], d)
    run = subprocess.run(["./model"], cwd=d, capture_output=True, text=True, timeout=3600, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"run failed ({run.returncode}): {run.stderr[-500:]}")
    pairs = [line.split() for line in run.stdout.splitlines() if line.strip()]
    c_ms = statistics.median(float(w) for w, _ in pairs)
    c_cpu = statistics.median(float(c) for _, c in pairs)
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in onnx.load_from_string(model_bytes).graph.output]
    times, cpu = [], []
    for _ in range(runs):
        t, tc = time.perf_counter(), time.process_time()
        want = sess.run(names, inputs)
        times.append((time.perf_counter() - t) * 1e3)
        cpu.append((time.process_time() - tc) * 1e3)
    got = np.fromfile(d / "out0.bin", dtype=np.float32).reshape(want[0].shape)
    tvm_row = tvm.figures(name, model_bytes, inputs, want[0], runs, d) if tvm is not None else None
    return {"model": name, "tvm": tvm_row, "build_s": build_s, "build_mb": build_mb, "base_mb": base, "archive_mb": archive_mb, "gcc_s": gcc_s, "gcc_mb": gcc_mb, "c_ms": c_ms, "c_cpu_ms": c_cpu,
            "ort_cpu_ms": statistics.median(cpu),
            "ort_ms": statistics.median(times), "pool": p.plan.pool_size,
            "weights_mb": sum(p.graph.tensors[t].nbytes for t in p.param_names) / 1e6,
            "max_abs": float(np.abs(got - want[0]).max()), "top1": bool(got.argmax() == want[0].argmax())}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(NAMES))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--link-params", action="store_true")
    ap.add_argument("--link-params-format", choices=("c", "incbin"), help="with --link-params: how (default c)")
    ap.add_argument("-O", dest="opt", default="2", help="gcc optimisation level (default 2)")
    ap.add_argument("--native", action="store_true", help="gcc -march=native and TVM mcpu=<that CPU>")
    ap.add_argument("--no-tvm", action="store_true", help="leave TVM out")
    ap.add_argument("--refresh", action="store_true", help="measure TVM again instead of using the cache")
    ap.add_argument("--tvm-cache", type=Path, default=DEFAULT_CACHE, help=f"TVM figures (default {DEFAULT_CACHE})")
    args = ap.parse_args()
    march = native_cpu() if args.native else None
    target = json.dumps({"kind": "llvm", "mcpu": march}) if march else "llvm"
    tvm = None if args.no_tvm or tvm_python() is None else TvmSide(args.tvm_cache, args.refresh, target)
    load = os.getloadavg()
    print(f"gcc -std=c99 -O{args.opt}{f' -march={march}' if march else ''}; TVM target {target}; "
          f"load avg {load[0]:.2f} on {os.cpu_count()} cores{'' if tvm else '; no TVM'}")
    print("| model | build s | build peak MB (base) | archive MB | gcc s | gcc peak MB | C ms | onnxruntime ms | TVM llvm ms | C/TVM "
          "| C CPU ms | onnxruntime CPU ms | C/onnxruntime (CPU) | pool bytes | weights MB | max abs err (C / TVM) | top-1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="bench_models_") as tmp:
            for name in args.models.split(","):
                try:
                    r = bench(name, args.runs, args.link_params, f"-O{args.opt}", Path(tmp), tvm, march,
                              args.link_params_format)
                except Exception as exc:  # noqa: BLE001 - a row per model, whatever fails
                    ok = False
                    print(f"| {name} | failed: {type(exc).__name__}: {str(exc)[:300]} ||||||||||||||", flush=True)
                    continue
                ok &= bool(r["top1"])
                print(row(r), flush=True)
    finally:
        if tvm is not None:
            tvm.close()
    print(f"load avg after: {os.getloadavg()[0]:.2f}")
    return 0 if ok else 1


def row(r: dict[str, object]) -> str:
    """One markdown table row of ``bench``'s result."""
    t = r["tvm"]
    if isinstance(t, dict):
        when = f" (cached {t['date']})" if t["cached"] else ""
        tvm_ms, ratio, tvm_err = f"{t['ms']:.0f}{when}", f"{r['c_ms'] / t['ms']:.2f}", f"{t['max_abs']:.1e}"  # type: ignore[operator]
    else:
        tvm_ms, ratio, tvm_err = "-", "-", "-"
    peak = f"{r['build_mb']} ({r['base_mb']})" if r.get("build_mb") is not None else "-"
    return (f"| {r['model']} | {r['build_s']:.1f} | {peak} | {r['archive_mb']:.1f} | {r['gcc_s']:.1f} | {r['gcc_mb']} "
            f"| {r['c_ms']:.0f} | {r['ort_ms']:.1f} | {tvm_ms} | {ratio} | {r['c_cpu_ms']:.1f} | {r['ort_cpu_ms']:.1f} "
            f"| {r['c_cpu_ms'] / r['ort_cpu_ms']:.2f} | {r['pool']} | {r['weights_mb']:.1f} "
            f"| {r['max_abs']:.1e} / {tvm_err} | {'yes' if r['top1'] else 'NO'} |")


if __name__ == "__main__":
    sys.exit(main())
