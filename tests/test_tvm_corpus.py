"""The real-TVM corpus: every text that TVM 0.27 printed from its own tests and re-parses itself
must read without a single diagnostic, error or warning (see tests/corpus/README.md).

Two tests per set: the reader alone (``read_tir``), and the full analysis the language server
runs (``analyze_text``, computed once per file for both). A failure lists every diagnostic as ``file:line:col: code message``.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

import pytest

from tir_lsp.compiler.analysis.run import Analysis, analyze_text

CORPUS = Path(__file__).resolve().parent / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
SETS = sorted({info["set"] for info in MANIFEST.values()})
SHOWN = 300  # diagnostics listed in a failure message; the summary counts all of them
# Diagnostics that are right: TVM's own test asserts the module is not well formed.
EXPECTED = {
    ("relax/test_analysis_well_formed__test_call_tir_output_shape_with_mixed_static_and_dynamic.Mod__be912513.tir",
     "TIR020"),
    # TVM's own inputs whose index is out of bounds on every run: the out-of-bounds analysis'
    # examples, a store into a buffer of shape (0, 0), a concat test reading B[16..31] of a
    # 16-element B.
    ("holdout/test_s_tir_analysis_oob__bad_load__fc5d5773.tir", "TIR014"),
    ("holdout/test_s_tir_analysis_oob__bad_store__31d33d82.tir", "TIR014"),
    ("holdout/test_sblock_buffer_access_lca__lca_is_func_root__6e5a1153.tir", "TIR014"),
    ("holdout/test_s_tir_transform_loop_partition__partitioned_concat__bde12d2e.tir", "TIR014"),
}


def _reparsing(set_name: str) -> list[str]:
    return sorted(name for name, info in MANIFEST.items()
                  if info["set"] == set_name and info["reparses"])


def _failure_report(diags: list[tuple[str, object]], files: int, bad_files: int) -> str:
    by_code = Counter(d.code for _, d in diags)  # type: ignore[attr-defined]
    lines = [f"{bad_files} of {files} files have diagnostics ({len(diags)} in all); by code: "
             + ", ".join(f"{code} x{n}" for code, n in by_code.most_common())]
    for name, d in diags[:SHOWN]:
        lines.append(f"tests/corpus/{name}:{d.span.line}:{d.span.column}: "  # type: ignore[attr-defined]
                     f"{d.code} {d.message}")  # type: ignore[attr-defined]
    if len(diags) > SHOWN:
        lines.append(f"... and {len(diags) - SHOWN} more")
    return "\n".join(lines)


def test_manifest_matches_files() -> None:
    on_disk = {p.relative_to(CORPUS).as_posix() for p in CORPUS.glob("*/*.tir")}
    assert on_disk == set(MANIFEST), (sorted(on_disk - set(MANIFEST))[:10],
                                      sorted(set(MANIFEST) - on_disk)[:10])
    assert {"tir", "holdout", "relax"} & set(SETS)


@functools.cache
def _analyses(set_name: str) -> list[tuple[str, Analysis]]:
    """``analyze_text`` on each re-parsing file of the set, once for both tests: its ``result``
    holds what the reader (``read_tir``) reported, its ``diagnostics`` everything."""
    names = _reparsing(set_name)
    assert names, f"no re-parsing files in set {set_name}"
    return [(name, analyze_text((CORPUS / name).read_text(encoding="utf-8"), name)) for name in names]


def _assert_clean(set_name: str, reader_only: bool) -> None:
    analyses = _analyses(set_name)
    diags = []
    bad_files = 0
    for name, analysis in analyses:
        found = [d for d in (analysis.result.diagnostics if reader_only else analysis.diagnostics)
                 if (name, d.code) not in EXPECTED]
        bad_files += bool(found)
        diags += [(name, d) for d in found]
    assert not diags, _failure_report(diags, len(analyses), bad_files)


@pytest.mark.parametrize("set_name", SETS)
def test_reader_is_clean_on_tvm_printed_text(set_name: str) -> None:
    _assert_clean(set_name, reader_only=True)


@pytest.mark.parametrize("set_name", SETS)
def test_full_analysis_is_clean_on_tvm_printed_text(set_name: str) -> None:
    """What the language server and ``tir-lsp check`` report: no false errors or warnings."""
    _assert_clean(set_name, reader_only=False)
