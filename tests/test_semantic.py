"""Semantic checks (TIR012, TIR013, TIR014, TIR017) through the one entry point, on example
files in tests/data/diagnostics, on hand-made IR, and on TVM's own output (no errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tir_lsp.compiler.analysis.run import analyze_text
from tir_lsp.compiler.analysis.semantic import check_function
from tir_lsp.compiler.diagnostics import ERROR
from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.dtype import FLOAT32, HANDLE_T, INT32, INT64, PointerType
from tir_lsp.compiler.ir.expr import BinOp, BufferLoad, Call, IntImm, Var
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import BufferStore, Evaluate, SeqStmt

DATA = Path(__file__).parent / "data" / "diagnostics"
CORPUS = Path(__file__).parent / "fixtures" / "tvm"


def diagnostics_of(name: str) -> list[tuple[str, int, str, str]]:
    a = analyze_text((DATA / name).read_text(), name)
    return [(d.code, d.span.line, d.severity, d.message) for d in a.diagnostics]


EXPECTED: dict[str, list[tuple[str, int, str, str]]] = {
    'TIR012_builtin_arity.tir': [
        ('TIR012', 6, 'error',
         'T.exp takes 1 argument(s), got 2: T.exp(x)'),
    ],
    'TIR013_store_dtype.tir': [
        ('TIR013', 6, 'warning',
         'store of a float32 value into buffer \'A\' of dtype float16 without a cast; it is converted implicitly: write T.Cast("float16", ...) if that is meant'),
        ('TIR013', 7, 'warning',
         'store of an int32 value into buffer \'B\' of dtype float32 without a cast; it is converted implicitly: write T.Cast("float32", ...) if that is meant'),
    ],
    # Always out of bounds: a constant index, or loop variables' ranges keep it out; not
    # under a condition, not in a loop that never runs.
    'TIR014_bounds.tir': [
        ('TIR014', 7, 'error', "store to buffer 's' at index from 8 to 15, out of bounds: 's' has 1 element(s)"),
        ('TIR014', 9, 'error', "store to buffer 'Y' at index 4, out of bounds: dimension 1 of 'Y' has 4 element(s)"),
        ('TIR014', 13, 'error', "store to buffer 'X' at index -1, out of bounds: 'X' has 8 element(s)"),
    ],
    'TIR014_rank.tir': [
        ('TIR014', 6, 'error',
         "load from buffer 'A' with 1 index(es), but it has 2 dimension(s); to index it flat, declare a flat view first (A_1 = T.decl_buffer((16,), data=A.data))"),
        ('TIR014', 8, 'error',
         "load from buffer 'B' with 2 index(es), but it has 1 dimension(s)"),
    ],
    'TIR017_operand_dtypes.tir': [
        ('TIR017', 5, 'warning',
         'operands of \'add\' have different dtypes: \'n\' is int32, \'m\' is int64; \'n\' is converted to int64 implicitly: write T.Cast("int64", ...) if that is meant'),
        ('TIR017', 6, 'warning',
         'operands of \'add\' have different dtypes: \'n\' is int32, \'B[...]\' is float32; \'n\' is converted to float32 implicitly: write T.Cast("float32", ...) if that is meant'),
        ('TIR017', 7, 'warning',
         'if condition is float32, not bool; compare it explicitly (e.g. x != 0)'),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failing_example(name: str) -> None:
    assert diagnostics_of(name) == EXPECTED[name]


def test_passing_example() -> None:
    assert diagnostics_of("ok_semantic.tir") == []


def test_out_of_bounds_index_is_reported_at_the_index_with_the_declaration() -> None:
    a = analyze_text((DATA / "TIR014_bounds.tir").read_text(), "b.tir")
    d = a.diagnostics[0]
    assert (d.span.line, d.span.column, d.span.end_column) == (7, 11, 16)  # ``8 + j``
    assert [(r.span.line, r.span.column) for r in d.related] == [(5, 5)]  # ``s: T.int32 = 0``


def test_store_diagnostic_points_at_the_buffer_declaration() -> None:
    a = analyze_text((DATA / "TIR013_store_dtype.tir").read_text(), "m.tir")
    (rel,) = a.diagnostics[0].related
    assert (rel.span, rel.message) == (Span(4, 7, 4, 8), "buffer 'A' declared here as float16 with shape (4)")


# ---------------------------------------------------------------- IR made by hand (JSON, passes)
def _func(*stmts: object) -> PrimFunc:
    return PrimFunc("f", (), (), SeqStmt(tuple(stmts)), name_span=Span(3, 5, 3, 6))  # type: ignore[arg-type]


A = Buffer("A", Var("A", HANDLE_T, PointerType(FLOAT32)), FLOAT32, (IntImm(INT32, 4),), span=Span(2, 1, 2, 2))


def test_ir_binop_without_cast_is_an_error() -> None:
    n, m = Var("n", INT32), Var("m", INT64)
    f = _func(Evaluate(BinOp("add", n, m, INT64, span=Span(5, 1, 5, 6))))
    (d,) = check_function(f, "f.tir")
    assert (d.code, d.severity, d.span.line) == ("TIR017", ERROR, 5)
    assert d.message == "operands of 'add' have different dtypes: 'n' is int32, 'm' is int64; cast one side with T.Cast"


def test_ir_store_without_cast_is_an_error() -> None:
    f = _func(BufferStore(A, Var("n", INT32), (IntImm(INT32, 0),), span=Span(6, 1, 6, 9)))
    (d,) = check_function(f, "f.tir")
    assert (d.code, d.severity, d.span.line, d.related[0].span.line) == ("TIR013", ERROR, 6, 2)
    assert d.message == ("store of an int32 value into buffer 'A' of dtype float32 without a cast; "
                         "write T.Cast(\"float32\", ...)")


def test_ir_vector_store_needs_matching_lanes() -> None:
    from tir_lsp.compiler.ir.expr import Ramp

    idx = Ramp(IntImm(INT32, 0), IntImm(INT32, 1), 4)
    ok = _func(BufferStore(A, BufferLoad(A, (idx,), FLOAT32.with_lanes(4)), (idx,)))
    assert check_function(ok) == []
    bad = _func(BufferStore(A, BufferLoad(A, (IntImm(INT32, 0),), FLOAT32), (idx,)))
    (d,) = check_function(bad)
    assert d.message == ("store of a value of 1 lane(s) into 4 index lane(s) of buffer 'A' (float32x4) without a "
                         "cast; write T.Cast(\"float32x4\", ...)")


def test_ir_builtin_arity() -> None:
    f = _func(Evaluate(Call(FLOAT32, "exp", (Var("x", FLOAT32), Var("y", FLOAT32)))))
    (d,) = check_function(f)
    assert (d.code, d.span, d.message) == ("TIR012", Span(3, 5, 3, 6), "T.exp takes 1 argument(s), got 2: T.exp(x)")


def test_builder_arity_error_is_reported_once() -> None:
    a = analyze_text((DATA / "TIR012_builtin_arity.tir").read_text())
    assert [d.code for d in a.diagnostics] == ["TIR012"]


# ---------------------------------------------------------------- TVM's own output: no errors, no warnings
def _corpus_files(version: str) -> list[Path]:
    return sorted((CORPUS / version).glob("*/*.tir"))


@pytest.mark.parametrize("version", ["0.25.0.post1", "0.27.0.post1"])
def test_tvm_output_gets_no_errors(version: str) -> None:
    files = _corpus_files(version)
    assert len(files) >= 500, "fixture corpus missing"
    stages = {p.name.split("_", 1)[1] for p in files}
    assert {"input.tir", "MakePackedAPI.tir", "LowerTVMBuiltin.tir"} <= stages
    bad = []
    for path in files:
        text = path.read_text()
        for d in analyze_text(text, str(path)).diagnostics:
            bad.append(d.render())
    assert bad == []
