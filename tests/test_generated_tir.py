"""The operator library builds its TIR as IR (no text read back): for each model of
``generated_tir_cases``, the fused functions print to exactly the text kept in
``tests/data/generated_tir/`` (first written from the text-writing operators of main 9d1bfbc; since then only the
identities of index arithmetic fold as they are built),
and that text reads back to the same IR, up to spans. A change of the generated TIR shows
here as a diff of a fixture (``tests/data/generated_tir/generate.py`` rewrites them)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from generated_tir_cases import cases

from tir_lsp.compiler.frontend.fuse import fuse
from tir_lsp.compiler.frontend.onnx_import import import_onnx
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.structural import structural_diff
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir

DATA = Path(__file__).parent / "data" / "generated_tir"
CASES = cases()


def test_every_model_has_its_fixture_and_no_fixture_is_stale() -> None:
    assert sorted(p.stem for p in DATA.glob("*.tir")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_fused_functions_print_as_the_fixture_and_read_back_as_themselves(name: str) -> None:
    fused = fuse(import_onnx(CASES[name]), "m", scratch_params=True)
    module = ir.ir_module([f.func for f in fused if f.func is not None])
    want = (DATA / f"{name}.tir").read_text(encoding="utf-8")
    assert print_module(module) == want
    back = read_tir(want, f"{name}.tir")
    assert back.diagnostics == []
    for built, read in zip(module.functions, back.module.functions, strict=True):
        assert structural_diff(built, read) is None, built.name


def test_the_generator_writes_what_the_test_compares() -> None:
    sys.path.insert(0, str(DATA))
    try:
        import generate
    finally:
        sys.path.remove(str(DATA))
    name = "resblock"
    assert generate.module_text(CASES[name]) == (DATA / f"{name}.tir").read_text(encoding="utf-8")
