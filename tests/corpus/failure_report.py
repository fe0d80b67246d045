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
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tir_lsp.compiler.analysis.run import analyze_text
from tir_lsp.compiler.text.reader import read_tir


def normalize(message: str) -> str:
    """A message with the specifics of one occurrence replaced: quoted text by '…', numbers by N."""
    # A quoted syntax-node kind is the cause itself ('Lambda' is not a TIR expression): kept.
    m = re.sub(r"'([^']*)'(?! is not a TIR expression)", "'…'", message)
    m = re.sub(r'"[^"]*"', '"…"', m)
    m = re.sub(r"`[^`]*`", "`…`", m)
    m = re.sub(r"\b\d+\b", "N", m)
    return re.sub(r"^unknown builtin T\.[\w.]+$", "unknown builtin T.…", m)


# Constructs the issue names as causes: how often each occurs in re-parsing files, and in how
# many of those files a diagnostic points at a line that has it.
PROBES: list[tuple[str, str]] = [
    ("T.launch_thread", r"T\.launch_thread\("),
    ("T.env_thread", r"T\.env_thread\("),
    ("float8/float6/float4 dtypes", r"float[864]_e"),
    ("@ operator", r"\S @ \S"),
    ("buffer attributes (.elem_offset, .strides, .data, .shape)", r"\w\.(elem_offset|strides|data|shape)\b"),
    ("None as a value", r"\bNone\b"),
    ("T.tvm_storage_sync", r"T\.tvm_storage_sync\("),
    ("T.target(...)", r"T\.target\("),
    ("lambda", r"\blambda\b"),
    ("TypeVar", r"\bTypeVar\b"),
    ("tuple assignment (n, m = ...)", r"^\s*\w+\s*,\s*\w+.*=\s*T\."),
    ("vector slice / T.Ramp / T.vscale", r"T\.Ramp\(|T\.vscale\(|\[\w+:\w"),
    ("call through the module class (Module.f / cls.f)", r"\b(Module|cls)\.\w+\("),
    ("T.let[...] annotation", r"T\.let\["),
    ("list / tuple literal as a call argument", r"\w\((.*,\s*)?[\[(]"),
]


def has_relax(text: str) -> bool:
    """Whether TVM printed Relax in this text (its header imports relax as R)."""
    return "import relax as R" in text or "@R.function" in text


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
            "Only files TVM re-parses itself count. `reader` = `tir_lsp.compiler.text.reader.read_tir` "
            "(what tests/test_tvm_corpus.py requires clean); `analysis` = `analyze_text`, what "
            "the language server and `tir-lsp check` report (reader diagnostics included). "
            "Regenerate: `.venv/bin/python tests/corpus/failure_report.py --out <file>`."), "",
            ("| set | files | TVM re-parses | reader clean | reader: files with errors / warnings only "
            "| analysis clean | analysis: files with errors / warnings only |"),
            "|---|---|---|---|---|---|---|"]
    groups: dict[str, dict[tuple[str, str, str], list[tuple[str, object]]]] = {}
    notes: list[str] = []
    probe_hits: dict[str, dict[str, list[int]]] = {}  # set -> probe -> [files with it, with a diag on it]
    for set_name in ("tir", "holdout", "relax"):
        names = sorted(n for n, i in manifest.items() if i["set"] == set_name)
        if not names:
            continue
        ok_names = [n for n in names if manifest[n]["reparses"]]
        tally = {"reader": [0, 0, 0], "analysis": [0, 0, 0]}  # clean, errors, warnings only
        tir_only = {"files": 0, "reader": 0, "analysis": 0}  # files, and how many are clean
        g: dict[tuple[str, str, str], list[tuple[str, object]]] = defaultdict(list)
        for name in ok_names:
            text = (HERE / name).read_text(encoding="utf-8")
            read = read_tir(text, name).diagnostics
            full = analyze_text(text, name).diagnostics
            if not has_relax(text):
                tir_only["files"] += 1
                tir_only["reader"] += not read
                tir_only["analysis"] += not full
            for stage, diags in (("reader", read), ("analysis", full)):
                t = tally[stage]
                t[0 if not diags else 1 if any(d.severity == "error" for d in diags) else 2] += 1
            lines = text.splitlines()
            bad_lines = {d.span.line for d in full}
            hits = probe_hits.setdefault(set_name, {label: [0, 0] for label, _ in PROBES})
            for label, pattern in PROBES:
                where = [i for i, line in enumerate(lines, 1) if re.search(pattern, line)]
                if where:
                    hits[label][0] += 1
                    hits[label][1] += any(i in bad_lines for i in where)
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
        n = tir_only["files"]
        if n:
            notes.append(f"- {set_name}: of the {len(ok_names)} re-parsing files, {n} are TIR only (no Relax): "
                         f"reader clean on {tir_only['reader']} ({100 * (n - tir_only['reader']) / n:.1f}% not), "
                         f"analysis clean on {tir_only['analysis']} ({100 * (n - tir_only['analysis']) / n:.1f}% not).")
    out += [""] + notes + [""]
    if probe_hits:
        sets = list(probe_hits)
        out += ["## Constructs named in the issue", "",
                ("Re-parsing files that contain the construct / of those, files where a diagnostic "
                "(reader or analysis) points at a line with it. A rough probe (a regex per line)."), "",
                "| construct | " + " | ".join(sets) + " |", "|---|" + "---|" * len(sets)]
        for label, _ in PROBES:
            out.append(f"| {label} | " + " | ".join(
                f"{probe_hits[s][label][0]} / {probe_hits[s][label][1]}" for s in sets) + " |")
        out.append("")
    for set_name, g in groups.items():
        out += [f"## {set_name}: failure groups", "",
                ("`[stage] CODE normalized message`, counted in files (and occurrences), most files first. "
                "Examples: `file:line:col`, the message, the source line."), ""]
        ranked = sorted(g.items(), key=lambda kv: (kv[0][0] != "reader", -len({n for n, _ in kv[1]}), kv[0]))
        for (stage, code, message), hits in ranked:
            files = len({n for n, _ in hits})
            severity = "/".join(sorted({d.severity for _, d in hits}))  # type: ignore[attr-defined]
            out.append(f"### [{stage}] {code} ({severity}) {message} — {files} files ({len(hits)} occurrences)")
            out.append("")
            variants = Counter(d.message for _, d in hits)  # type: ignore[attr-defined]
            if len(variants) > 1:
                top = ", ".join(f"`{v}` x{n}" for v, n in variants.most_common(25))
                more = f", and {len(variants) - 25} more" if len(variants) > 25 else ""
                out += [f"Variants ({len(variants)}): {top}{more}", ""]
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
