"""Lowering speed: TIR text -> C source, our compiler against ``tvm.compile(mod, target="c")``.

    python bench/bench_lower.py [--reps 20] [--rounds 4] [--clock cpu|wall] [--kernels matmul_f32,softmax_f32]

Both sides lower the same fixture text (tests/fixtures/tvm/0.27.0.post1/<kernel>/00_input.tir)
with the packed API (what TVM's ``c`` target produces). Two measurements per kernel:

- *lower*: parse excluded on both sides. Ours: ``run_pipeline`` + ``emit_c`` on a module read
  once. TVM: ``tvm.compile(mod, target="c")`` + ``lib.mod.inspect_source()`` on a module parsed
  once by ``tvm.script.from_source``.
- *parse+lower*: the same with the parse of the text inside the timing (``read_tir`` /
  ``from_source``).

TVM runs in a worker process under its own interpreter (bench/_tvm_side.py). The two sides
alternate in ``--rounds`` rounds so both see the same machine load; each figure is the median
of all timed runs, after one warm-up run per round. Both sides time with the same clock:
``--clock cpu`` (the default: time.process_time, the CPU time of the measuring process, all
its threads, so other work on a shared machine does not count) or ``--clock wall``
(time.perf_counter). Prints a markdown table and exits 0.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tir_lsp.compiler.backend.c_codegen import emit_c
from tir_lsp.compiler.diagnostics import ERROR
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform.pass_api import PipelineOptions
from tir_lsp.compiler.transform.pipeline import run_pipeline

CORPUS = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
KERNELS = (
    "relu_f32",
    "matmul_f32",
    "softmax_f32",
    "layer_norm_f32",
    "conv2d_nchw_f32",
    "sched_matmul_tiled_f32",
    "sched_conv2d_inline_pad_f32",
    "bench_conv2d_3x3",
    "bench_matmul_256_scheduled",
)


def kernel_path(kernel: str) -> Path:
    return CORPUS / kernel / "00_input.tir"


def read_module(text: str, name: str) -> IRModule:
    result = read_tir(text, name)
    errors = [d for d in result.diagnostics if d.severity == ERROR]
    if errors:
        raise RuntimeError(f"{name}: {errors[0].render(name)}")
    return result.module


def lower_ours(mod: IRModule) -> str:
    """What ``tirc lower --emit c`` does after reading: the whole pipeline, then the C."""
    return emit_c(run_pipeline(mod, PipelineOptions()))


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def time_ours(path: Path, reps: int, warmup: int = 1, parse: bool = False, clock: str = "cpu") -> list[float]:
    """Milliseconds per run of our lowering of ``path`` (with the parse if ``parse``)."""
    now = CLOCKS[clock]
    text = path.read_text(encoding="utf-8")
    mod = read_module(text, str(path))

    def once() -> str:
        return lower_ours(read_module(text, str(path)) if parse else mod)

    for _ in range(warmup):
        once()
    times = []
    for _ in range(reps):
        t0 = now()
        once()
        times.append((now() - t0) * 1e3)
    return times


@dataclass
class Row:
    kernel: str
    lines: int
    ours: float
    tvm: float
    ours_parse: float
    tvm_parse: float


def measure(kernels: list[str], reps: int, rounds: int, clock: str = "cpu") -> tuple[list[Row], str]:
    from _tvm_side import TvmWorker

    per_round = max(1, reps // rounds)
    rows = []
    with TvmWorker() as tvm:
        version = tvm.ask("version")["version"]
        for k in kernels:
            path = kernel_path(k)
            got: dict[str, list[float]] = {"ours": [], "tvm": [], "ours_parse": [], "tvm_parse": []}
            for _ in range(rounds):
                got["ours"] += time_ours(path, per_round, clock=clock)
                got["tvm"] += tvm.ask("lower", path=str(path), reps=per_round, warmup=1, parse=False, clock=clock)["times_ms"]
                got["ours_parse"] += time_ours(path, per_round, parse=True, clock=clock)
                got["tvm_parse"] += tvm.ask("lower", path=str(path), reps=per_round, warmup=1, parse=True, clock=clock)["times_ms"]
            med = {key: statistics.median(v) for key, v in got.items()}
            lines = path.read_text(encoding="utf-8").count("\n") + 1
            rows.append(Row(k, lines, med["ours"], med["tvm"], med["ours_parse"], med["tvm_parse"]))
    return rows, version


def geomean(xs: list[float]) -> float:
    return statistics.geometric_mean(xs)


def verdict(ratio: float, what: str) -> str:
    """``ratio`` is ours / TVM time."""
    if ratio <= 1.0:
        return f"{what}: ours is {1 / ratio:.2f}x faster than TVM (geomean over kernels)"
    return f"{what}: ours is {ratio:.2f}x slower than TVM (geomean over kernels)"


def render(rows: list[Row], version: str, reps: int, load: tuple[float, ...], clock: str = "cpu") -> str:
    what = "CPU time" if clock == "cpu" else "wall time"
    out = [
        (f"Lowering TIR -> C, ours vs TVM {version} tvm.compile(target=\"c\"), packed API; "
        f"median {what} of {reps} runs (ms); load avg before/after: {load[0]:.2f} / {load[1]:.2f} on {os.cpu_count()} cores"),
        "",
        "| kernel | lines | ours | TVM | ours/TVM | ours+parse | TVM+parse | ours/TVM (+parse) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        out.append(
            f"| {r.kernel} | {r.lines} | {r.ours:.2f} | {r.tvm:.2f} | {r.ours / r.tvm:.2f} "
            f"| {r.ours_parse:.2f} | {r.tvm_parse:.2f} | {r.ours_parse / r.tvm_parse:.2f} |"
        )
    out.append("")
    slower = [f"{r.kernel} ({r.ours / r.tvm:.2f}x)" for r in rows if r.ours > r.tvm]
    out.append(f"lower only, kernels where ours is slower than TVM: {', '.join(slower) or 'none'}")
    out.append(verdict(geomean([r.ours / r.tvm for r in rows]), "lower only"))
    out.append(verdict(geomean([r.ours_parse / r.tvm_parse for r in rows]), "parse + lower"))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=20, help="timed runs per side and kernel (default 20)")
    ap.add_argument("--rounds", type=int, default=4, help="alternations of ours and TVM (default 4)")
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                    help="cpu: process CPU time (default; robust on a shared machine), wall: elapsed time")
    ap.add_argument("--kernels", default=",".join(KERNELS), help="comma-separated fixture kernels")
    args = ap.parse_args(argv)
    kernels = [k for k in args.kernels.split(",") if k]
    missing = [k for k in kernels if not kernel_path(k).exists()]
    if missing:
        ap.error(f"no fixture for {', '.join(missing)} under {CORPUS}")
    before = os.getloadavg()[0]
    rows, version = measure(kernels, args.reps, args.rounds, args.clock)
    after = os.getloadavg()[0]
    reps = max(1, args.reps // args.rounds) * args.rounds
    print(render(rows, version, reps, (before, after), args.clock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
