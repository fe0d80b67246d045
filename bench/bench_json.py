"""Dump and load a 10,000-statement module as JSON IR; prints CPU seconds for each.

    python bench/bench_json.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_json_format import big_module

from tir_lsp.compiler.backend.json_format import dumps, loads


def main() -> int:
    mod = big_module(10_000)
    dump_t, load_t = [], []
    for _ in range(5):
        t = time.process_time()
        text = dumps(mod)
        dump_t.append(time.process_time() - t)
        t = time.process_time()
        loads(text)
        load_t.append(time.process_time() - t)
    print(f"JSON IR, 10,000-statement module ({len(text) / 1e6:.1f} MB): "
          f"dump {statistics.median(dump_t) * 1000:.0f} ms, load {statistics.median(load_t) * 1000:.0f} ms (CPU, median of 5)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
