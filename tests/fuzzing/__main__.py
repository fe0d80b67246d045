"""``python -m tests.fuzzing --seconds N [--long] [--seed S] [--crash-dir DIR]``.

Exit code 0 when the run found nothing, 1 when it found crashes, hangs or oracle violations
(each saved to the crash folder, minimised, and printed)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .runner import Fuzzer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzzing", description=__doc__)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long to fuzz (default 60)")
    ap.add_argument("--long", action="store_true",
                    help="hours-long mode: default 4 h, every seed (also large files), gcc on every 50th C output")
    ap.add_argument("--seed", type=int, default=0, help="random seed (a run is reproducible from it)")
    ap.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"), help="where findings are written")
    ap.add_argument("--no-minimise", action="store_true", help="save findings as found")
    args = ap.parse_args(argv)
    seconds = args.seconds if not args.long or "--seconds" in (argv or sys.argv) else 4 * 3600.0
    fuzzer = Fuzzer(seed=args.seed, max_seed_bytes=None if args.long else 20_000, crash_dir=args.crash_dir,
                    minimise=not args.no_minimise, gcc_every=50 if args.long else 0)
    report = fuzzer.run(seconds)
    print(report.summary())
    return 1 if report.findings else 0


if __name__ == "__main__":
    sys.exit(main())
