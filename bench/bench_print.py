"""`tirc print` of a 10,000-line module against TVM 0.27's own parser, side by side.

Both sides run as whole processes on the same text (made by bench/make_module.py from the
fixture corpus: real TVM output of every stage TVM can read back):
- ours: `tirc print FILE` (start, parse, analysis, print);
- TVM:  `python -c "tvm.script.from_source(text, check_well_formed=False)"` (start, import,
  parse; the import is also reported apart so the parse-only ratio can be read off too).
Also measures loading the grammar from Lark's cache (target < 50 ms).

Wall time depends on what else the machine runs; the CPU columns (user+sys of each child
process, from getrusage(RUSAGE_CHILDREN) around it) do much less, so compare both.

    python bench/bench_print.py [--lines 10000] [--runs 3]

TVM's interpreter: $TIR_TVM_PYTHON, else .tvm027/bin/python, else /opt/tvmenv/tvm0.27.0.post1/bin/python.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from make_module import make_module
from tvm_reference import tvm_python

TVM_SNIPPET = """
import sys, time
t0 = time.perf_counter()
import tvm
t1 = time.perf_counter()
tvm.script.from_source(open(sys.argv[1]).read(), check_well_formed=False)
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, user+sys CPU seconds, stdout) of one run of ``cmd``."""
    cpu = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    cpu = _children_cpu() - cpu
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed, cpu, proc.stdout


def grammar_load_ms(runs: int) -> float:
    # Imports are not the grammar's load: time load_grammar() alone, in a fresh process.
    code = ("import time; from tir_lsp.compiler.text.parser import load_grammar; t=time.perf_counter(); "
            "load_grammar(); print((time.perf_counter()-t)*1000)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)  # warm the cache
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                                  text=True, cwd=ROOT).stdout) for _ in range(runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    # The console script next to this interpreter: a version manager's shim on PATH (pyenv)
    # would add its own start-up (~0.1 s) to every run.
    beside = Path(sys.executable).parent / "tirc"
    tirc = str(beside) if beside.exists() else (shutil.which("tirc") or "tirc")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "module.tir"
        src.write_text(make_module(args.lines))
        n_lines = src.read_text().count("\n")
        load_before = os.getloadavg()[0]
        tvm_py = tvm_python()
        ours: list[tuple[float, float]] = []
        tvm_runs: list[tuple[float, float]] = []
        tvm_parse: list[float] = []
        # Alternate the two sides, so that both see the same load on a shared machine.
        for _ in range(args.runs):
            ours.append(timed([tirc, "print", str(src)])[:2])
            if tvm_py:
                total, cpu, out = timed([tvm_py, "-c", TVM_SNIPPET, str(src)])
                tvm_runs.append((total, cpu))
                tvm_parse.append(float(out.split()[1]))
    ours_med = statistics.median(w for w, _ in ours)
    ours_cpu = statistics.median(c for _, c in ours)
    print(f"module: {n_lines} lines; runs: {args.runs} (medians); "
          f"load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")
    print()
    print("| tool | whole process wall (s) | whole process CPU user+sys (s) | lines/s (wall) |")
    print("|---|---|---|---|")
    print(f"| `tirc print` | {ours_med:.2f} | {ours_cpu:.2f} | {n_lines / ours_med:,.0f} |")
    if tvm_runs:
        tm = statistics.median(w for w, _ in tvm_runs)
        tc = statistics.median(c for _, c in tvm_runs)
        tp = statistics.median(tvm_parse)
        print(f"| TVM 0.27 `from_source` | {tm:.2f} (parse alone {tp:.2f}) | {tc:.2f} | {n_lines / tp:,.0f} |")
        print()
        print(f"tirc print is {tm / ours_med:.1f}x faster than TVM's whole process in wall time "
              f"({tp / ours_med:.1f}x against its parse alone) and {tc / ours_cpu:.1f}x in CPU time; "
              f"target: 10x")
    else:
        print("\nTVM not found: set TIR_TVM_PYTHON to compare")
    print(f"grammar load from cache: {grammar_load_ms(args.runs):.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
