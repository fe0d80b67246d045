"""The index of closed workspace files: functions read through the one parse path (exact
spans, multi-line signatures, global symbols), cached per file by (mtime, size)."""

from __future__ import annotations

import os
from pathlib import Path

from tir_lsp.compiler.ir.span import Span
from tir_lsp.cross_file import FileSet, search_order
from tir_lsp.workspace_index import Symbol, WorkspaceIndex, scan_text

TEXT = '''# from tvm.script import tirx as T

@T.prim_func
def f(
    A: T.Buffer((4,), "float32"),  # the input
    n: T.int32,
) -> T.int32:  # ends here
    # a comment before the attributes
    T.func_attr({"global_symbol": "f_sym",
                 "calling_conv": 0})
    B = T.alloc_buffer((4,))
    return 0

@T.prim_func
def g(): T.evaluate(0)

@T.prim_func
def broken(x: T.int32) -> T.int32:
    return (
'''


def test_headers_are_read_by_the_parser() -> None:
    assert scan_text(TEXT, "m.tir") == [
        Symbol("f", "function", "m.tir", Span(4, 5, 4, 6), None, "f_sym"),
        Symbol("A", "buffer", "m.tir", Span(5, 5, 5, 6), "f"),
        Symbol("B", "buffer", "m.tir", Span(11, 5, 11, 6), "f"),
        Symbol("g", "function", "m.tir", Span(15, 5, 15, 6)),
        # The syntax error in its body does not hide the function.
        Symbol("broken", "function", "m.tir", Span(18, 5, 18, 11)),
    ]


def test_a_def_in_a_string_or_comment_is_not_a_function() -> None:
    text = '# def fake(x):\n@T.prim_func\ndef real():\n    T.evaluate(T.call_extern("int32", "def no(", 0))\n'
    assert [s.name for s in scan_text(text, "m.tir") if s.kind == "function"] == ["real"]


def test_files_are_scanned_again_only_when_they_change(tmp_path: Path) -> None:
    path = tmp_path / "a.tir"
    path.write_text(TEXT)
    index = WorkspaceIndex()
    assert index.refresh(str(path)) is True
    assert index.refresh(str(path)) is False  # same mtime and size: cached
    assert [s.path for s in index.functions_named("f_sym")] == [str(path)]
    path.write_text(TEXT.replace("def g(", "def g2("))
    os.utime(path, ns=(1, 1))
    assert index.refresh(str(path)) is True
    assert index.functions_named("g") == [] and len(index.functions_named("g2")) == 1
    path.unlink()
    assert index.refresh(str(path)) is True and index.symbols() == []


def test_the_callers_folder_is_searched_first() -> None:
    assert search_order(["/w/b/x.tir", "/w/a/src/z.tir", "/w/a/src/me.tir", "/w/a/y.tir"], "/w/a/src/me.tir") == [
        "/w/a/src/z.tir", "/w/a/y.tir", "/w/b/x.tir"]


def test_check_reads_other_files_only_for_names_they_may_define(tmp_path: Path) -> None:
    (tmp_path / "lib.tir").write_text(TEXT)
    (tmp_path / "other.tir").write_text("@T.prim_func\ndef other():\n    return\n")
    files = FileSet([(str(tmp_path / "lib.tir"), "lib.tir"), (str(tmp_path / "other.tir"), "other.tir")])
    assert files.defined_in("f_sym") == [str(tmp_path / "lib.tir")]
    assert files.defined_in("nowhere") == []
    assert list(files._defines) == [str(tmp_path / "lib.tir")]  # other.tir was never scanned


def test_unreadable_or_broken_callee_files_are_skipped(tmp_path: Path) -> None:
    from tir_lsp.compiler.analysis.run import analyze_text

    caller = ('# from tvm.script import tirx as T\n@T.prim_func\ndef main(a: T.handle("float32")) -> T.int32:\n'
              '    T.evaluate(T.call_extern("int32", "lib", a))\n    return 0\n')
    (tmp_path / "main.tir").write_text(caller)
    (tmp_path / "binary.tir").write_bytes(b"\xff\xfe def lib(\x00")  # not UTF-8: names 'lib' but is no module
    (tmp_path / "broken.tir").write_text("@T.prim_func\ndef lib(a: T.handle(\n")  # a syntax error
    files = FileSet([(str(tmp_path / n), n) for n in ("main.tir", "binary.tir", "broken.tir")])
    resolve = files.resolver_for("main.tir")
    assert resolve is not None
    assert [d.code for d in analyze_text(caller, "main.tir", resolve_files=resolve).diagnostics] == []
