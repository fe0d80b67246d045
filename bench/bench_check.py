"""Wall time of `tir-lsp check` on 1,000 files of the fixture corpus, start-up included.

Copies the TVM fixture files (repeated until there are N) into a temporary folder and runs the
real command on it, as CI would, with all cores and with one:

    python bench/bench_check.py          # 1000 files
    python bench/bench_check.py 5000

Target: under 10 s for 1,000 files on a 2-core machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from itertools import cycle, islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fixtures" / "tvm"


def make_tree(folder: Path, count: int) -> int:
    """``count`` corpus files in ``folder``, 100 per subfolder; returns their total size in bytes."""
    sources = sorted(CORPUS.glob("*/*/*.tir"))
    if not sources:
        sys.exit(f"no fixture files under {CORPUS}")
    size = 0
    for i, src in enumerate(islice(cycle(sources), count)):
        dest = folder / f"part{i // 100:03d}" / f"{i:05d}_{src.name}"
        dest.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dest)
        size += dest.stat().st_size
    return size


def timed_check(folder: Path, *args: str) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command and its workers, exit code)."""
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "tir_lsp.check", "--no-config", *args, str(folder)],
                          env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode == 2:
        sys.exit(f"tir-lsp check failed: {proc.stderr.strip()}")
    return wall, cpu, proc.returncode


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory(prefix="tir-check-bench-") as tmp:
        folder = Path(tmp)
        size = make_tree(folder, count)
        print(f"{count} files, {size / 1e6:.1f} MB, {os.cpu_count()} cores")
        for label, args in (("all cores", ()), ("--jobs 1", ("--jobs", "1"))):
            wall, cpu, code = timed_check(folder, *args)
            print(f"tir-lsp check ({label}): {wall:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{1000 * wall / count:.2f} ms/file, exit {code}")


if __name__ == "__main__":
    main()
