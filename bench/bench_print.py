"""`tirc print` of a 10,000-line module against TVM 0.27's own parser, side by side.

Both sides run as whole processes on the same text (made by bench/make_module.py from the
fixture corpus: real TVM output of every stage TVM can read back):
- ours: `tirc print FILE` (start, parse, analysis, print);
- TVM:  `python -c "tvm.script.from_source(text, check_well_formed=False)"` (start, import,
  parse; the import is also reported apart so the parse-only ratio can be read off too).
Also measures loading the grammar from Lark's cache (target < 50 ms).

    python bench/bench_print.py [--lines 10000] [--runs 3]

TVM's interpreter: $TIR_TVM_PYTHON, else .tvm027/bin/python, else /opt/tvmenv/tvm0.27.0.post1/bin/python.
"""

from __future__ import annotations

import argparse
import os
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

from make_module import make_module  # noqa: E402

TVM_SNIPPET = """
import sys, time
t0 = time.perf_counter()
import tvm
t1 = time.perf_counter()
tvm.script.from_source(open(sys.argv[1]).read(), check_well_formed=False)
t2 = time.perf_counter()
print(f"{t1 - t0:.4f} {t2 - t1:.4f}")
"""


def tvm_python() -> str | None:
    for cand in (os.environ.get("TIR_TVM_PYTHON"), str(ROOT / ".tvm027" / "bin" / "python"),
                 "/opt/tvmenv/tvm0.27.0.post1/bin/python"):
        if cand and Path(cand).exists():
            return cand
    return None


def timed(cmd: list[str]) -> tuple[float, str]:
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def grammar_load_ms(runs: int) -> float:
    # Imports are not the grammar's load: time load_grammar() alone, in a fresh process.
    code = ("import time; from compiler.text.parser import load_grammar; t=time.perf_counter(); "
            "load_grammar(); print((time.perf_counter()-t)*1000)")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT)  # warm the cache
    return statistics.median(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                                  text=True, cwd=ROOT).stdout) for _ in range(runs))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tirc = shutil.which("tirc") or str(Path(sys.executable).parent / "tirc")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "module.tir"
        src.write_text(make_module(args.lines))
        n_lines = src.read_text().count("\n")
        ours = [timed([tirc, "print", str(src)])[0] for _ in range(args.runs)]
        tvm_py = tvm_python()
        tvm_total: list[float] = []
        tvm_parse: list[float] = []
        if tvm_py:
            for _ in range(args.runs):
                total, out = timed([tvm_py, "-c", TVM_SNIPPET, str(src)])
                tvm_total.append(total)
                tvm_parse.append(float(out.split()[1]))
    ours_med = statistics.median(ours)
    print(f"module: {n_lines} lines; runs: {args.runs} (medians); load average {os.getloadavg()[0]:.2f}")
    print()
    print("| tool | whole process (s) | lines/s |")
    print("|---|---|---|")
    print(f"| `tirc print` | {ours_med:.2f} | {n_lines / ours_med:,.0f} |")
    if tvm_total:
        tm, tp = statistics.median(tvm_total), statistics.median(tvm_parse)
        print(f"| TVM 0.27 `from_source` | {tm:.2f} (parse alone {tp:.2f}) | {n_lines / tp:,.0f} |")
        print()
        print(f"tirc print is {tm / ours_med:.1f}x faster than TVM's whole process "
              f"({tp / ours_med:.1f}x against its parse alone); target: 10x")
    else:
        print("\nTVM not found: set TIR_TVM_PYTHON to compare")
    print(f"grammar load from cache: {grammar_load_ms(args.runs):.1f} ms (target < 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
