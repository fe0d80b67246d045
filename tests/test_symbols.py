"""Def-use index: definitions, references and position lookups built by the reader."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tir_lsp.compiler.ir import Span
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.text.symbols import Definition, Reference, SymbolIndex

SRC = textwrap.dedent('''
    # from tvm.script import tirx as T
    @I.ir_module
    class Module:
        @T.prim_func
        def helper(x: T.int32) -> T.int32:
            return x
        @T.prim_func
        def main(A: T.Buffer((16,), "float32"), n: T.int32):
            for i in range(n):
                A[i] = A.data[0] if False else A[i]
            T.evaluate(T.call_extern("int32", "helper", n))
            T.evaluate(T.call_packed("helper", A.data))
''').lstrip("\\n")
# (the `if False` line is not TIR; it only checks that bad statements still index names)


def _read():
    return read_tir(SRC)


def test_definitions_kinds_and_name_spans():
    r = _read()
    kinds = {(d.name, d.kind) for d in r.index.definitions}
    assert {("helper", "function"), ("main", "function"), ("A", "buffer_param"), ("n", "param"),
            ("i", "loop"), ("x", "param")} <= kinds
    main = r.module.get("main")
    d = r.index.definition_of(main.buffer_map[0][1])
    assert d.span == Span(9, 14, 9, 15) and d.function == "main"


def test_references_to_buffer_include_subscripts_and_data():
    r = _read()
    buf = r.module.get("main").buffer_map[0][1]
    lines = [(ref.span.line, ref.span.column) for ref in r.index.references_to(buf)]
    assert (11, 13) in lines and (13, 44) in lines


def test_string_callee_references_resolve_to_module_function():
    r = _read()
    helper = r.module.get("helper")
    refs = r.index.references_to(helper)
    assert [(ref.span.line, ref.span.column) for ref in refs] == [(12, 43), (13, 34)]


def test_at_finds_innermost_entry():
    r = _read()
    main = r.module.get("main")
    hit = r.index.at(10, 13)  # the `i` of `for i in range(n)`
    assert isinstance(hit, Definition) and hit.kind == "loop"
    hit = r.index.at(10, 24)  # the `n` in range(n)
    assert isinstance(hit, Reference) and hit.symbol is main.params[1]
    assert r.index.at(10, 5) is None


def test_shifted_and_merge():
    v1, v2 = object(), object()
    a = SymbolIndex([Definition(v1, "a", Span(1, 1, 1, 2), "let")], [Reference(Span(2, 3, 2, 4), v1)])
    b = SymbolIndex([Definition(v2, "b", Span(1, 1, 1, 2), "let")], [])
    m = a.merge(b.shifted(10))
    assert m.definition_of(v2).span == Span(11, 1, 11, 2)
    assert m.at(2, 3).symbol is v1 and m.at(11, 2).symbol is v2
    assert m.without_lines(11, 11).definition_of(v2) is None


def test_scopes_agree_with_the_builders_name_resolution():
    # Every use resolves, by the index's scopes, to the definition the builder bound it to:
    # the scopes are read off the syntax tree, the builder keeps its own stack while building.
    root = Path(__file__).parent / "fixtures" / "tvm" / "0.27.0.post1"
    files = sorted(root.glob("**/*.tir"))[::12]
    assert len(files) > 40
    uses = 0
    for path in files:
        idx = read_tir(path.read_text(), str(path)).index
        for ref in idx.references:
            d = idx.definition_of(ref.symbol)
            if d is None or d.kind == "function":
                continue
            seen = [v for v in idx.visible(ref.span.line, ref.span.column) if v.name == d.name]
            assert len(seen) == 1 and seen[0].symbol is ref.symbol, f"{path}:{ref.span}: {d.name}"
            uses += 1
    assert uses > 1000


def test_scope_of_loop_var_let_and_shadowing():
    r = read_tir(textwrap.dedent('''
        # from tvm.script import tirx as T
        @T.prim_func
        def f(A: T.Buffer((8,), "int32"), n: T.int32):
            for i in range(4):
                A[i] = n
            n: T.let[T.int32] = 2
            for i in range(4):
                A[i] = n
    ''').lstrip("\n"))
    idx = r.index
    param, let = idx.symbols_named("n")
    first, second = idx.symbols_named("i")
    assert idx.scope_of(first).region == Span(5, 1, 5, 17) and idx.scope_of(second).region == Span(8, 1, 8, 17)
    assert idx.visible_at(first, 5, 12) and not idx.visible_at(first, 8, 12) and not idx.visible_at(first, 4, 20)
    assert [d.kind for d in idx.visible(8, 16) if d.name == "n"] == ["let"]
    assert [d.kind for d in idx.visible(5, 16) if d.name == "n"] == ["param"]
    assert idx.shadowed_by(let) is param and idx.shadowed_by(second) is None
    # A line typed after the second loop's body, indented as the body, continues it.
    assert not idx.visible_at(second, 9, 9) and idx.visible_at(second, 9, 9, typing=(8, 9))
    assert not idx.visible_at(second, 9, 5, typing=(8, 5))
    moved = idx.shifted(3)
    assert moved.scope_of(moved.symbols_named("i")[1]).region == Span(11, 1, 11, 17)
