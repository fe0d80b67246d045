"""trace_pipeline: one run, every stage's text equal to `print_module` of that stage (the
per-function printing cache must not change a character), unchanged stages flagged, and each
function's line range in the stage text."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from tests.bench_modules import load_bench
from tir_lsp.compiler.diagnostics import ERROR
from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform.pass_api import PipelineOptions
from tir_lsp.compiler.transform.pipeline import passes_for, run_pipeline
from tir_lsp.compiler.transform.pipeline_trace import trace_pipeline

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "tvm" / "0.27.0.post1"
TWO = ROOT / "tests" / "lsp" / "data" / "pipeline_view" / "two_funcs.tir"


def _module(text: str) -> IRModule:
    result = read_tir(text, "<test>")
    assert not [d for d in result.diagnostics if d.severity == ERROR]
    return result.module


def _reference(mod: IRModule, options: PipelineOptions) -> list[str]:
    texts = [print_module(mod)]
    options.print_after = "all"
    options.on_stage = lambda name, m, when: texts.append(print_module(m))
    run_pipeline(mod, options)
    return texts


SOURCES = {
    "two functions": lambda: TWO.read_text(),
    "standalone function": lambda: (ROOT / "tests" / "lsp" / "data" / "scopes.tir").read_text(),
    "module attrs": lambda: (ROOT / "tests" / "lsp" / "data" / "unpacked.tir").read_text(),
    "matmul input": lambda: (CORPUS / "matmul_f32" / "00_input.tir").read_text(),
    "many functions": lambda: load_bench("make_module").make_module(400),
}


CASES = [(name, unpacked) for name in SOURCES for unpacked in (False, True)
         if not (name == "module attrs" and not unpacked)]  # its functions are unpacked already


@pytest.mark.parametrize(("name", "unpacked"), CASES)
def test_stage_texts_equal_print_module(name: str, unpacked: bool) -> None:
    mod = _module(SOURCES[name]())
    stages = trace_pipeline(mod, PipelineOptions(unpacked_api=unpacked))
    assert [s.pass_name for s in stages] == [None] + [p.name for p in passes_for(PipelineOptions(unpacked_api=unpacked))]
    assert [s.text for s in stages] == _reference(mod, PipelineOptions(unpacked_api=unpacked))
    for before, after in itertools.pairwise(stages):
        assert after.changed == (after.text != before.text)


def test_function_ranges_cover_their_def_lines() -> None:
    stages = trace_pipeline(_module(TWO.read_text()))
    for stage in stages:
        lines = stage.text.split("\n")
        assert [f.name for f in stage.functions] == ["matmul", "add"]
        for f in stage.functions:
            assert lines[f.start].strip().startswith("@T.prim_func")
            assert any(ln.strip().startswith(f"def {f.name}(") for ln in lines[f.start:f.end])
        assert stage.functions[0].end <= stage.functions[1].start
