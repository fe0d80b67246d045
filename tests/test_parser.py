"""The grammar and parser: TVM's text parses; broken text gives positioned errors and partial
results, never an exception."""

from __future__ import annotations

import pytest

from tir_lsp.compiler.text import syntax as S
from tir_lsp.compiler.text.parser import parse_chunk, parse_module, split_chunks

MODULE = '''# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func
    def f(A: T.Buffer((16,), "float32")):
        for i in range(16):
            A[i] = T.float32(0)

    @T.prim_func(s_tir=True)
    def g(B: T.Buffer((8,), "float32")):
        for i in range(8):
            B[i] = B[i] + 1
'''


def function_names(stmts: tuple[S.SStmt, ...]) -> list[str]:
    out: list[str] = []
    for s in stmts:
        if isinstance(s, S.FunctionDef):
            out.append(s.name.id)
        elif isinstance(s, (S.ClassDef, S.Error)):
            out.extend(function_names(s.body))
    return out


def errors(src: str) -> list[str]:
    _, diags = parse_module(src)
    return [f"{d.span.line}:{d.span.column}: {d.message} [{d.code}]" for d in diags]


def test_module_parses_with_exact_spans() -> None:
    mod, diags = parse_module(MODULE)
    assert diags == []
    assert mod.dialect == "tirx"
    cls = mod.body[0]
    assert isinstance(cls, S.ClassDef) and cls.name.id == "Module"
    f, g = cls.body
    assert isinstance(f, S.FunctionDef) and f.name.span == S.Name("f", f.name.span).span
    assert (f.name.span.line, f.name.span.column, f.name.span.end_column) == (7, 9, 10)
    assert (f.span.line, f.span.column) == (6, 5)  # starts at the decorator
    loop = f.body[0]
    assert isinstance(loop, S.For)
    store = loop.body[0]
    assert isinstance(store, S.Assign)
    assert isinstance(store.target, S.Subscript)
    assert (store.span.line, store.span.column, store.span.end_column) == (9, 13, 32)
    assert isinstance(g, S.FunctionDef)
    dec = g.decorators[0]
    assert isinstance(dec, S.Call) and dec.keywords[0].name == "s_tir"


def test_split_chunks_finds_functions_with_decorators() -> None:
    lines = MODULE.split("\n")
    chunks = split_chunks(lines)
    assert [(c.start + 1, c.end, c.indent) for c in chunks] == [(6, 9, 4), (11, 14, 4)]


def test_one_function_reparses_alone_at_its_own_lines() -> None:
    lines = MODULE.split("\n")
    stmts, diags = parse_chunk(lines[10:14], 11)
    assert diags == []
    (g,) = stmts
    assert isinstance(g, S.FunctionDef) and g.name.id == "g" and g.name.span.line == 12


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("A[i] = T.float32(0)", "A[i] = = T.float32(0)",
         "9:20: unexpected '='; expected an expression [TIR001]"),
        ("for i in range(16):", "for i in range(16)", "8:27: unexpected end of line; expected ':' [TIR001]"),
        ("A[i] = T.float32(0)", "A[i] = T.float32(0", "9:29: '(' was never closed [TIR001]"),
        ("B[i] + 1", "B[i] $ 1", "14:25: invalid character '$' [TIR003]"),
        ("            A[i] = T.float32(0)", "            A[i] = T.float32(0)\n                A[i] = 1",
         "10:17: unexpected indent [TIR002]"),
        ("            A[i] = T.float32(0)", "            A[i] = T.float32(0)\n          A[i] = 1",
         "10:1: unindent does not match any outer indentation level [TIR002]"),
    ],
)
def test_one_broken_line_is_reported_and_hides_nothing(old: str, new: str, expected: str) -> None:
    src = MODULE.replace(old, new)
    assert errors(src) == [expected]
    mod, _ = parse_module(src)
    assert function_names(mod.body) == ["f", "g"]


def test_unterminated_string_is_positioned() -> None:
    src = MODULE.replace('(8,), "float32"', '(8,), "float32')
    assert errors(src)[0] == "12:29: unterminated string [TIR003]"
    mod, _ = parse_module(src)
    assert "f" in function_names(mod.body)


def test_broken_block_header_keeps_its_body_as_error_node() -> None:
    src = MODULE.replace("for i in range(8):", "for i in range(8) +:")
    mod, diags = parse_module(src)
    assert len(diags) == 1 and diags[0].span.line == 13
    g = mod.body[0].body[1]
    assert isinstance(g, S.FunctionDef)
    err = g.body[0]
    assert isinstance(err, S.Error) and err.span.line == 13
    assert isinstance(err.body[0], S.Assign)  # the loop body is still there


@pytest.mark.parametrize("cut", range(0, len(MODULE), 7))
def test_every_truncation_parses_without_exception(cut: int) -> None:
    mod, diags = parse_module(MODULE[:cut])
    assert isinstance(mod, S.Module)
    for d in diags:
        assert d.span.line >= 1 and d.span.column >= 1


def test_strings_are_decoded_without_eval() -> None:
    mod, diags = parse_module('x = "a\\tb\\x41\\u00e9" "c"\ny = r"\\n"\n')
    assert diags == []
    assert mod.body[0].value.value == "a\tbA\u00e9c"
    assert mod.body[1].value.value == "\\n"


def test_numbers() -> None:
    mod, _ = parse_module("a = 0x10\nb = 1_000\nc = 1e-07\nd = 0.5\ne = 3.\n")
    assert [s.value.value for s in mod.body] == [16, 1000, 1e-07, 0.5, 3.0]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^",
                                "==", "!=", "<", "<=", ">", ">=", "and", "or"])
def test_every_binary_operator_lexes_as_one_token(op: str) -> None:
    mod, diags = parse_module(f"x = a {op} b\n")
    assert diags == []
    value = mod.body[0].value
    assert isinstance(value, S.BinaryOp) and value.op == op


def test_crlf_and_tabs() -> None:
    src = "def f(A):\r\n\tfor i in range(4):\r\n\t\tA[i] = 0\r\n"
    mod, diags = parse_module(src)
    assert diags == []
    assert function_names(mod.body) == ["f"]
