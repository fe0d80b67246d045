"""The formatter: whitespace moves, nothing else does. Small snippets in, exact text out; TVM's
own dumps are fixed points; generated modules and corpus files under random whitespace damage
(indent widths, tabs, spaces between tokens, trailing blanks, blank lines, CRLF) format back
to the canonical text, idempotently, to a structurally equal module."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fuzzing.strategies import modules
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tir_lsp.compiler.ir.function import IRModule
from tir_lsp.compiler.ir.structural import structural_diff
from tir_lsp.compiler.text import formatter
from tir_lsp.compiler.text.formatter import TOKEN_RE, format_range, format_tir, layout
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir

CORPUS = Path(__file__).resolve().parent / "fixtures" / "tvm"
TVM_027 = sorted((CORPUS / "0.27.0.post1").rglob("*.tir"))
# One stage file of each kernel for the (slower) checked formatting: inputs and packed APIs.
CORPUS_SAMPLE = [p for p in TVM_027 if p.name.startswith(("00_", "57_"))]


def fmt(text: str) -> str:
    result = format_tir(text)
    assert result.refused is None, result.refused
    return result.text


# ---------------------------------------------------------------------------------------
# Bug reports: what the printer-based formatter did wrong


def test_buffer_names_are_kept() -> None:
    # The printer renamed a re-declared buffer: `A` became `A_1` and `A_1` became `A_1_1`.
    text = ('@T.prim_func\n'
            'def main(A_handle: T.handle, n: T.int32):\n'
            '    A = T.decl_buffer((16,), data=T.reinterpret(T.handle("float32", "global").ty, A_handle))\n'
            '    A_1 = A.view(16)\n'
            '    A_1[n] = T.float32(0)\n')
    assert fmt(text.replace(" = ", "=").replace("    ", "  ")) == text


def test_comments_are_kept() -> None:
    text = ('# from tvm.script import tirx as T\n\n'
            '@T.prim_func\n'
            'def main(A: T.Buffer((4,), "float32")):\n'
            '    # with T.sblock("root"):\n'
            '    for i in range(4):  # the only loop\n'
            '        #   odd   spacing inside a comment stays\n'
            '        A[i] = T.float32(0)\n\n'
            '# Metadata omitted. Use show_meta=True in script() method to show it.\n')
    messy = text.replace("    ", "   ").replace("  # the", "   # the").replace("stays\n", "stays   \n")
    assert fmt(messy) == text


def test_metadata_references_are_kept() -> None:
    text = ('@T.prim_func\n'
            'def main(n: T.int32):\n'
            '    assert n == 3, ("TypeError", ["Expected ", metadata["ir.StringImm"][0], "`"])\n')
    messy = text.replace(", ", ",").replace(" == ", "==").replace('metadata["', 'metadata[ "')
    assert fmt(messy) == text


def test_tvm_spacing() -> None:
    text = ('@T.prim_func\n'
            'def main(A: T.Buffer((16, 16), "float32"), B: T.Buffer((16,), "float32")) -> T.int32:\n'
            '    T.func_attr({"tirx.noalias": True})\n'
            '    x: T.let[T.int32] = -4\n'
            '    B[0:4] = A[0, 0:4]\n'
            '    A[x * 4:x * 4 + 4, -1] = T.Cast("float32", -x) * -T.float32(1.0)\n'
            '    B[0] = A[0, :] if not x > 2 else A[:, 0]\n'
            '    B_1 = T.Buffer((16,), "float32", data=B.data, offset_factor=-1)\n'
            '    return T.if_then_else(x // 2 >= 0 and x % 2 != 0, x << 1, ~x)\n')
    squeezed = ('@T.prim_func\n'
                'def main(A:T.Buffer( (16,16),"float32" ),B :T.Buffer((16, ),"float32"))->T.int32 :\n'
                '    T.func_attr( {"tirx.noalias" : True} )\n'
                '    x:T.let[ T.int32 ]=- 4\n'
                '    B[0 : 4]=A[0,0:4]\n'
                '    A[x*4:x*4+4,-1]=T.Cast("float32",- x)*-T.float32(1.0)\n'
                '    B[0]=A[0,:] if not x>2 else A[ : ,0]\n'
                '    B_1=T.Buffer((16,),"float32",data = B.data,offset_factor = -1)\n'
                '    return T.if_then_else(x//2>=0 and x%2!=0,x<<1,~ x)\n')
    assert fmt(squeezed) == text


def test_blank_lines_between_functions() -> None:
    # As TVM prints: one blank line between two functions, none forced before the first.
    text = ('# from tvm.script import ir as I\n'
            '# from tvm.script import tirx as T\n\n'
            '@I.ir_module\n'
            'class Module:\n'
            '    I.module_attrs({"executor": "aot"})\n'
            '    @T.prim_func\n'
            '    def f(A: T.Buffer((4,), "float32")):\n'
            '        A[0] = T.float32(1)\n\n'
            '        A[1] = T.float32(2)\n\n'
            '    # g is f twice\n'
            '    @T.prim_func\n'
            '    def g(A: T.Buffer((4,), "float32")):\n'
            '        T.evaluate(0)\n')
    messy = (text.replace("class Module:\n", "class Module:\n\n\n")
             .replace("T.float32(1)\n\n", "T.float32(1)\n\n\n  \n")
             .replace("\n\n    # g", "\n    # g")
             .replace("@T.prim_func\n    def g", "@T.prim_func\n\n    def g")
             + "\n\n\n")
    assert fmt(messy) == text


def test_line_breaks_inside_brackets_move_with_their_statement() -> None:
    text = ('@T.prim_func\n'
            'def main(A: T.Buffer((4,), "float32")):\n'
            '    T.func_attr({"a": 1,  # first\n'
            '                 # between\n'
            '                 "b": 2})\n'
            '    A[0] = A[1] + \\\n'
            '        A[2]\n')
    messy = text.replace("\n    ", "\n  ").replace('"a":1', '"a": 1').replace("  \\", "\\")
    assert fmt(messy) == text


def test_continuation_lined_up_with_its_bracket_stays_lined_up() -> None:
    text = ('@T.prim_func\n'
            'def main(A: T.Buffer((4,), "float32")):\n'
            '    A[0] = T.max(A[1],\n'
            '                 A[2])\n')
    messy = ('@T.prim_func\n'
             'def main(A: T.Buffer((4,), "float32")):\n'
             '  A[0]=T.max(A[1],\n'
             '             A[2])\n')
    assert fmt(messy) == text


def test_crlf_tabs_and_no_final_newline() -> None:
    text = '@T.prim_func\ndef main(A: T.Buffer((4,), "float32")):\n    for i in range(4):\n        A[i] = T.float32(0)\n'
    assert fmt(text.replace("    ", "\t").replace("\n", "\r\n").rstrip()) == text


# ---------------------------------------------------------------------------------------
# No edit rather than a wrong one


def test_syntax_error_is_refused() -> None:
    text = '@T.prim_func\ndef main(A: T.Buffer((4,), "float32")):\n    for i in range(4)\n        A[i]=T.float32(0)\n'
    result = format_tir(text)
    assert result.text == text
    assert result.refused == "not formatted: line 3:22: unexpected end of line; expected ':' [TIR001]"
    assert result.error is not None and (result.error.code, result.error.span.line) == ("TIR001", 3)


def test_bad_indentation_is_refused() -> None:
    text = '@T.prim_func\ndef main(A: T.Buffer((4,), "float32")):\n    if True:\n        A[0]=1.0\n      A[1]=1.0\n'
    result = format_tir(text)
    assert result.text == text
    assert result.refused is not None and result.refused.endswith("[TIR002]")


def test_a_layout_that_changes_meaning_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check, not the layout, is what makes formatting safe: a layout that renamed a buffer
    # or dropped a comment would be caught.
    text = '@T.prim_func\ndef main(X: T.Buffer((4,), "float32")):  # c\n    X[0] = T.float32(0)\n'
    monkeypatch.setattr(formatter, "layout", lambda s: s.replace("X", "X_1"))
    assert format_tir(text).refused == "not formatted: formatting would change the text's meaning " \
                                       "(tokens or comments differ)"
    monkeypatch.setattr(formatter, "layout", lambda s: s.replace("  # c", ""))
    assert format_tir(text).text == text
    monkeypatch.setattr(formatter, "layout", lambda s: s.replace("\n    X", "\nX"))
    assert format_tir(text).refused == "not formatted: formatting would change the text's meaning " \
                                       "(block structure differs)"


# ---------------------------------------------------------------------------------------
# TVM's output is a fixed point


def test_every_tvm_027_dump_is_a_fixed_point_but_for_its_final_newline() -> None:
    changed = [p for p in TVM_027 if layout(p.read_text()) != p.read_text() + "\n"]
    assert len(TVM_027) > 500
    assert changed == []


# ---------------------------------------------------------------------------------------
# Properties


def whitespace_variant(text: str, rnd: random.Random, blank_lines: bool) -> str:
    """``text`` (4-space indents, one statement per line) with the same tokens and comments
    and damaged whitespace: another indent unit, spaces added or removed between tokens,
    trailing blanks, CRLF, optionally blank lines, and a final newline missing or doubled."""
    unit = rnd.choice(["  ", "   ", "    ", "        ", "\t", " \t"])
    out = []
    for line in text.splitlines():
        body = line.lstrip(" ")
        depth = (len(line) - len(body)) // 4
        if blank_lines and rnd.random() < 0.15:
            out.append(rnd.choice(["", "  ", "\t"]))
        words = [m.group(m.lastgroup) for m in TOKEN_RE.finditer(body)]  # type: ignore[arg-type]
        gaps = _gaps(body, words)
        parts = [words[0]] if words else []
        for gap, left, right in zip(gaps, words, words[1:]):
            choice = rnd.random()
            if choice < 0.2:
                gap += rnd.choice([" ", "  ", "\t"])
            elif choice < 0.5 and gap and _stays_apart(left, right):
                gap = ""
            parts.append(gap + right)
        out.append(unit * depth + "".join(parts) + rnd.choice(["", "", " ", " \t "]))
    end = rnd.choice(["\n", "\r\n"])
    return end.join(out) + rnd.choice(["", end, end * 3])


def _gaps(body: str, words: list[str]) -> list[str]:
    gaps, pos = [], 0
    for w in words:
        start = body.index(w, pos)
        gaps.append(body[pos:start])
        pos = start + len(w)
    return gaps[1:]


def _stays_apart(left: str, right: str) -> bool:
    """Whether ``left + right`` still lexes as these two tokens."""
    m = TOKEN_RE.match(left + right)
    return m is not None and m.group(m.lastgroup) == left  # type: ignore[arg-type]


def with_comments(text: str, rnd: random.Random) -> str:
    """``text`` with comment lines and trailing comments on some statement lines."""
    out = []
    for i, line in enumerate(text.splitlines(True)):
        body = line.lstrip(" ")
        if body.strip() and not body.startswith("#") and rnd.random() < 0.3:
            out.append(line[:len(line) - len(body)] + f"# note {i}:  keep   me\n")
        if body.strip() and not body.startswith("#") and rnd.random() < 0.3:
            line = line.rstrip("\n") + f"  # c{i}\n"
        out.append(line)
    return "".join(out)


def _nonblank(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.strip()]


def check_formats_back(clean: str, variant: str, blank_lines: bool) -> None:
    result = format_tir(variant)
    assert result.refused is None, result.refused
    if blank_lines:
        assert _nonblank(result.text) == _nonblank(clean)
    else:
        assert result.text == clean
    assert format_tir(result.text).text == result.text  # idempotent
    before, after = read_tir(variant), read_tir(result.text)
    assert structural_diff(before.module, after.module) is None
    assert [(d.code, d.message) for d in before.diagnostics] == [(d.code, d.message) for d in after.diagnostics]


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(modules(), st.randoms(use_true_random=False), st.booleans())
def test_generated_modules_format_back_from_whitespace_damage(module: IRModule, rnd: random.Random,
                                                             blank_lines: bool) -> None:
    clean = with_comments(print_module(module), rnd)
    assert layout(clean) == clean
    check_formats_back(clean, whitespace_variant(clean, rnd, blank_lines), blank_lines)


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(CORPUS_SAMPLE), st.randoms(use_true_random=False), st.booleans())
def test_tvm_dumps_format_back_from_whitespace_damage(path: Path, rnd: random.Random, blank_lines: bool) -> None:
    clean = path.read_text() + "\n"
    check_formats_back(clean, whitespace_variant(clean, rnd, blank_lines), blank_lines)


# ---------------------------------------------------------------------------------------
# Range formatting

RANGE_TEXT = ('@T.prim_func\n'
              'def main(A: T.Buffer((4,), "float32")):\n'
              '    A[0]=T.float32(1)\n'
              '    A[1]=T.float32(2)\n'
              '    for i in range(4):\n'
              '        A[i]=A[i]+1.0\n')


def test_range_formats_only_the_selected_lines() -> None:
    result = format_range(RANGE_TEXT.replace("\n", "\r\n"), 3, 3)
    assert result.refused is None
    assert result.text == RANGE_TEXT.replace("A[1]=T", "A[1] = T").replace("\n", "\r\n")


def test_range_that_would_cut_a_block_is_refused() -> None:
    # Re-indenting the loop header alone would leave its body no deeper than itself.
    text = RANGE_TEXT.replace("\n    ", "\n  ").replace("\n      A[i]", "\n    A[i]")
    result = format_range(text, 4, 4)
    assert result.text == text
    assert result.refused is not None and "(block structure differs)" in result.refused
    assert format_range(text, 1, 5).text == fmt(text)


@settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(CORPUS_SAMPLE[::4]), st.randoms(use_true_random=False))
def test_damaged_text_is_refused_or_formatted_idempotently(path: Path, rnd: random.Random) -> None:
    # Any text: the formatter answers (never raises); what it formats is a fixed point.
    chars = list(path.read_text())
    for _ in range(rnd.randint(1, 4)):
        i = rnd.randrange(len(chars))
        c = rnd.choice(" \t\n\r\\#()[]:,=-*@'\"x1;")
        chars[i:i + rnd.randint(0, 1)] = [c] if rnd.random() < 0.7 else []
    text = "".join(chars)
    result = format_tir(text)
    assert (result.text == text) == (result.refused is not None or layout(text) == text)
    if result.refused is None:
        assert format_tir(result.text) == formatter.Formatted(result.text)
