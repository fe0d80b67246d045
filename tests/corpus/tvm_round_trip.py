"""Does TVM 0.27 read back what our printer prints for the real-TVM corpus, as the same IR?

    TIR_TVM_PYTHON=/path/to/tvm/python .venv/bin/python tests/corpus/tvm_round_trip.py \
        [--sets tir,holdout] [--only GLOB] [--out results.json] [--examples 3]

For each file of the sets that TVM re-parses itself (``reparses`` in manifest.json) and that
our reader reads without an error: read it (``read_tir``), print it (``print_module``), and
hand both texts to one TVM process, which parses each (``tvm.script.from_source``) and
compares the two results structurally (``tvm_ffi``) (free vars mapped). Each file ends
up ``ok``, ``rejected`` (TVM cannot read our text back) or ``differs`` (it reads it, as a
different IR). Prints the counts per set and a few examples of each failure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE.parent))

from tvm_reference import tvm_python

from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir

# Runs in TVM's interpreter: one JSON item per stdin line, one JSON result per stdout line.
_CHECKER = r"""
import json, sys
import tvm, tvm_ffi
for line in sys.stdin:
    name, original, ours = json.loads(line)
    status, err = "ok", ""
    try:
        ref = tvm.script.from_source(original, check_well_formed=False)
    except Exception:
        status = "tvm-cannot-read-its-own-text"
    else:
        try:
            got = tvm.script.from_source(ours, check_well_formed=False)
        except Exception as exc:
            status, err = "rejected", str(exc)[-400:]
        else:
            where = tvm_ffi.get_first_structural_mismatch(ref, got, map_free_vars=True)
            if where is not None:
                status, err = "differs", str(where[0])[-400:]
    print(json.dumps([name, status, err]), flush=True)
"""


def items(sets: list[str], only: str = "*") -> tuple[list[list[str]], Counter[str]]:
    """[name, original, ours] for each file we read cleanly; counts of the files left out."""
    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    out: list[list[str]] = []
    skipped: Counter[str] = Counter()
    for name, entry in sorted(manifest.items()):
        if entry["set"] not in sets or not entry["reparses"] or not fnmatch(name, only):
            continue
        text = (HERE / name).read_text(encoding="utf-8")
        if "metadata[" in text:
            skipped["refers to omitted metadata"] += 1
            continue
        result = read_tir(text, name)
        if any(d.severity == "error" for d in result.diagnostics):
            skipped["our reader reports an error"] += 1
            continue
        out.append([name, text, print_module(result.module)])
    return out, skipped


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="tir,holdout")
    ap.add_argument("--only", default="*", help="only the files whose name (set/file.tir) matches this glob")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--examples", type=int, default=3)
    args = ap.parse_args(argv)
    py = tvm_python()
    if py is None:
        print("no TVM 0.27 interpreter (set TIR_TVM_PYTHON)", file=sys.stderr)
        return 2
    work, skipped = items(args.sets.split(","), args.only)
    payload = "".join(json.dumps(item) + "\n" for item in work)
    proc = subprocess.run([py, "-c", _CHECKER], input=payload, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return 1
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    counts: Counter[tuple[str, str]] = Counter((name.split("/")[0], status) for name, status, _ in results)
    for set_name in args.sets.split(","):
        row = {s: counts[(set_name, s)] for s in ("ok", "rejected", "differs", "tvm-cannot-read-its-own-text")}
        print(set_name, row)
    for reason, n in skipped.items():
        print(f"left out: {n} ({reason})")
    for status in ("rejected", "differs"):
        bad = [(n, e) for n, s, e in results if s == status]
        for name, err in bad[:args.examples]:
            print(f"{status}: {name}: {err.strip().splitlines()[-1] if err.strip() else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
