"""Where our reader fails on the real-TVM corpus, grouped by cause, as markdown.

    .venv/bin/python tests/corpus/failure_report.py [--out report.md] [--examples 3]

For each set: files, how many TVM re-parses, how many of those we read without a diagnostic.
Then the diagnostics on re-parsing files, grouped by code + normalized message (names,
numbers and quoted text replaced by placeholders), most files first, each with a few
``file:line:col`` examples and the source line. Each group says whether the reader
(``read_tir``) reports it or only the full analysis that the language server and ``tir-lsp
check`` run (``analyze_text``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from compiler.analysis.run import analyze_text
from compiler.text.reader import read_tir


def normalize(message: str) -> str:
    """A message with the specifics of one occurrence replaced: quoted text by '…', numbers by N."""
    # A quoted syntax-node kind is the cause itself ('Lambda' is not a TIR expression): kept.
    m = re.sub(r"'([^']*)'(?! is not a TIR expression)", "'…'", message)
    m = re.sub(r'"[^"]*"', '"…"', m)
    m = re.sub(r"`[^`]*`", "`…`", m)
    m = re.sub(r"\b\d+\b", "N", m)
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path)
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--header", default="", help="text put at the top of the report")
    args = ap.parse_args(argv)

    manifest = json.loads((HERE / "manifest.json").read_text(encoding="utf-8"))
    runs_path = HERE / "runs.json"
    runs = json.loads(runs_path.read_text()) if runs_path.exists() else {}
    out: list[str] = []
    if args.header:
        out += [args.header, ""]
    out += ["# Real-TVM corpus: failure report", "",
            (f"TVM tests from apache/tvm `{runs.get('commit', '?')}`, printed by TVM {runs.get('tvm', '?')}. "
            "Only files TVM re-parses itself count. `reader` = `compiler.text.reader.read_tir` "
            "(what tests/test_tvm_corpus.py requires clean); `analysis` = `analyze_text`, what "
            "the language server and `tir-lsp check` report (reader diagnostics included). "
            "Regenerate: `.venv/bin/python tests/corpus/failure_report.py --out <file>`."), "",
            ("| set | files | TVM re-parses | reader clean | reader: files with errors / warnings only "
            "| analysis clean | analysis: files with errors / warnings only |"),
            "|---|---|---|---|---|---|---|"]
    groups: dict[str, dict[tuple[str, str, str], list[tuple[str, object]]]] = {}
    for set_name in ("tir", "holdout", "relax"):
        names = sorted(n for n, i in manifest.items() if i["set"] == set_name)
        if not names:
            continue
        ok_names = [n for n in names if manifest[n]["reparses"]]
        tally = {"reader": [0, 0, 0], "analysis": [0, 0, 0]}  # clean, errors, warnings only
        g: dict[tuple[str, str, str], list[tuple[str, object]]] = defaultdict(list)
        for name in ok_names:
            text = (HERE / name).read_text(encoding="utf-8")
            read = read_tir(text, name).diagnostics
            full = analyze_text(text, name).diagnostics
            for stage, diags in (("reader", read), ("analysis", full)):
                t = tally[stage]
                t[0 if not diags else 1 if any(d.severity == "error" for d in diags) else 2] += 1
            keys = {(d.code, d.message, d.span) for d in read}
            for d in full:
                stage = "reader" if (d.code, d.message, d.span) in keys else "analysis"
                g[(stage, d.code, normalize(d.message))].append((name, d))
        groups[set_name] = g

        def cell(t: list[int], total: int) -> str:
            pct = f" ({100 * (total - t[0]) / total:.1f}% not clean)" if total else ""
            return f"{t[0]}{pct} | {t[1]} / {t[2]}"
        out.append(f"| {set_name} | {len(names)} | {len(ok_names)} | {cell(tally['reader'], len(ok_names))} "
                   f"| {cell(tally['analysis'], len(ok_names))} |")
    out.append("")
    for set_name, g in groups.items():
        out += [f"## {set_name}: failure groups", "",
                ("`[stage] CODE normalized message`, counted in files (and occurrences), most files first. "
                "Examples: `file:line:col`, the message, the source line."), ""]
        ranked = sorted(g.items(), key=lambda kv: (kv[0][0] != "reader", -len({n for n, _ in kv[1]}), kv[0]))
        for (stage, code, message), hits in ranked:
            files = len({n for n, _ in hits})
            out.append(f"### [{stage}] {code} {message} — {files} files ({len(hits)} occurrences)")
            out.append("")
            shown: set[str] = set()
            for name, d in hits:
                if name in shown:
                    continue
                shown.add(name)
                line = (HERE / name).read_text(encoding="utf-8").splitlines()[d.span.line - 1:d.span.line]  # type: ignore[attr-defined]
                src = line[0].strip() if line else ""
                out.append(f"- `tests/corpus/{name}:{d.span.line}:{d.span.column}`: {d.message}")  # type: ignore[attr-defined]
                out.append(f"  `{src[:160]}`")
                if len(shown) >= args.examples:
                    break
            out.append("")
    text = "\n".join(out) + "\n"
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
