"""Hostile input: thousands of nesting levels, a 1 MB line, 50,000 lines, NUL bytes, invalid
UTF-8, CRLF, tabs, a BOM, a huge literal, a lone surrogate. Each gives a clear error with
line:col or the right result, fast, in bounded memory, and never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tir_lsp.check import check_bytes
from tir_lsp.compiler.analysis.run import analyze_text
from tir_lsp.compiler.ir.structural import structural_diff
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import decode_tir_bytes, read_tir, read_tir_file

ROOT = Path(__file__).resolve().parents[1]
MATMUL = (ROOT / "examples" / "matmul.tir").read_text()
HEAD = '# from tvm.script import tirx as T\n\n@T.prim_func\ndef main(A: T.Buffer((4,), "float32"), n: T.int32):\n'
DEEP = 3000


def first_error(text: str) -> str | None:
    errors = [d.render() for d in analyze_text(text, "h.tir").diagnostics if d.severity == "error"]
    return errors[0] if errors else None


def timed_first_error(text: str) -> str | None:
    t0 = time.process_time()
    first = first_error(text)
    assert time.process_time() - t0 < 2.0
    return first


# ---------------------------------------------------------------------------- deep nesting
def test_thousands_of_nested_for_loops_stop_at_75_levels() -> None:
    text = HEAD + "".join("    " * (i + 1) + f"for i{i} in range(2):\n" for i in range(DEEP))
    text += "    " * (DEEP + 1) + "A[0] = T.float32(1)\n"
    # A statement counts two levels (it sits in a sequence), an expression one: the 75th
    # loop is at 150, its range(2) at 151.
    assert timed_first_error(text) == "h.tir:79:318: error: nested more than 150 levels deep [TIR005]"


def test_thousands_of_nested_ifs_stop_at_75_levels() -> None:
    text = HEAD + "".join("    " * (i + 1) + f"if n > {i}:\n" for i in range(DEEP))
    text += "    " * (DEEP + 1) + "A[0] = T.float32(1)\n"
    assert timed_first_error(text) == "h.tir:79:304: error: nested more than 150 levels deep [TIR005]"


def test_thousands_of_parentheses_are_just_grouping() -> None:
    text = HEAD + "    A[0] = " + "(" * DEEP + "A[1]" + ")" * DEEP + "\n"
    assert timed_first_error(text) is None
    assert print_module(read_tir(text).module).splitlines()[-1] == "    A[0] = A[1]"


@pytest.mark.parametrize("expr, where", [
    ("T.exp(" * DEEP + "A[1]" + ")" * DEEP, "5:900: error: nested more than 150 levels deep"),
    ("A[" * DEEP + "0" + "]" * DEEP, "5:308: error: nested more than 150 levels deep"),
    ("-" * DEEP + "A[1]", "5:160: error: nested more than 150 levels deep"),
    (" + ".join(["A[1]"] * DEEP), "5:12: error: nested more than 150 levels deep"),
], ids=["calls", "subscripts", "unary-minus", "additions"])
def test_deep_expressions_give_a_clear_error(expr: str, where: str) -> None:
    assert timed_first_error(HEAD + "    A[0] = " + expr + "\n") == f"h.tir:{where} [TIR005]"


def test_the_deepest_accepted_expression_goes_down_the_whole_chain() -> None:
    """Printer, passes (both conventions), C backend and JSON all walk the IR recursively:
    the nesting the reader accepts must fit all of them."""
    from fuzzing.runner import judge
    from fuzzing.targets import Options, Stats

    text = HEAD + "    for i in range(4):\n        A[0] = " + " + ".join(["A[1]"] * 145) + "\n"
    assert first_error(text) is None
    violation, _ = judge("text", text.encode(), Stats(), Options())
    assert violation is None, violation
    deeper = HEAD + "    for i in range(4):\n        A[0] = " + " + ".join(["A[1]"] * 146) + "\n"
    assert first_error(deeper) == "h.tir:6:18: error: nested more than 150 levels deep [TIR005]"


def test_thousands_of_signs_on_a_literal_are_one_number() -> None:
    text = HEAD + "    A[0] = T.float32(" + "-" * (DEEP + 1) + "1.5)\n"
    assert timed_first_error(text) is None
    assert print_module(read_tir(text).module).splitlines()[-1] == "    A[0] = T.float32(-1.5)"


def test_deep_lists_and_nots() -> None:
    lists = HEAD + '    T.func_attr({"k": ' + "[" * DEEP + "1" + "]" * DEEP + "})\n    A[0] = A[1]\n"
    assert timed_first_error(lists) == "h.tir:5:5: error: statement nested too deeply [TIR005]"
    nots = HEAD + "    if " + "not " * DEEP + "n > 0:\n        A[0] = A[1]\n"
    assert timed_first_error(nots) == "h.tir:5:600: error: nested more than 150 levels deep [TIR005]"


# ---------------------------------------------------------------------------- size
def test_a_one_megabyte_line() -> None:
    args = ", ".join(["n + 1"] * 150_000)  # a wide call, not a deep one: it must read correctly
    text = HEAD + f'    T.evaluate(T.call_extern("int32", "f", {args}))\n'
    assert len(text) > 1_000_000
    t0 = time.process_time()
    result = read_tir(text, "h.tir")
    cpu = time.process_time() - t0
    print(f"\n1 MB line (a call with 150,000 arguments): read_tir {cpu:.2f} s CPU")
    assert cpu < 10.0  # about 3 s on a loaded 2-core machine; it took minutes before a fix
    assert result.diagnostics == []
    call = result.module.functions[0].body.value  # type: ignore[attr-defined]
    assert len(call.args) == 150_001  # the name "f" and the arguments
    long_string = HEAD + '    T.evaluate(T.call_extern("int32", "' + "x" * 1_000_000 + '"))\n'
    assert read_tir(long_string).diagnostics == []


def _fifty_thousand_lines() -> str:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from make_module import make_module
    finally:
        sys.path.pop(0)
    return make_module(50_000)


def test_fifty_thousand_lines_read_fast_in_bounded_memory(tmp_path: Path) -> None:
    """Read and analysed in a fresh process: CPU time and peak memory of that process."""
    text = _fifty_thousand_lines()
    assert text.count("\n") >= 50_000
    path = tmp_path / "big.tir"
    path.write_text(text)
    script = (
        "import resource, sys, time, json\n"
        "from tir_lsp.compiler.analysis.run import analyze_text\n"
        "from tir_lsp.compiler.text.reader import read_tir\n"
        "text = open(sys.argv[1]).read()\n"
        "t0 = time.process_time()\n"
        "read_tir(text, 'big.tir')\n"
        "read = time.process_time() - t0\n"
        "t0 = time.process_time()\n"
        "a = analyze_text(text, 'big.tir')\n"
        "cpu = time.process_time() - t0\n"
        "print(json.dumps({'cpu': cpu, 'read': read,\n"
        "                  'rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,\n"
        "                  'errors': sum(d.severity == 'error' for d in a.diagnostics),\n"
        "                  'functions': len(a.result.module.functions)}))\n")
    proc = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True,
                          timeout=300, check=True, cwd=ROOT)
    figures = json.loads(proc.stdout)
    print(f"\n{text.count(chr(10)):,} lines ({len(text) / 1e6:.1f} MB): read_tir {figures['read']:.2f} s, "
          f"analyze_text {figures['cpu']:.2f} s CPU, peak RSS {figures['rss_mb']:.0f} MB")
    assert figures["errors"] == 0
    assert figures["functions"] > 300
    assert figures["cpu"] < 20.0  # about 6 s on a loaded 2-core machine
    assert figures["rss_mb"] < 1500


# ---------------------------------------------------------------------------- bytes and characters
def test_nul_byte_is_tir006_at_its_place() -> None:
    data = MATMUL.replace("T.reads", "T.re\x00ads", 1).encode()
    text, bad = decode_tir_bytes(data, "h.tir")
    assert text is None and bad is not None
    assert bad.render() == "h.tir:14:21: error: file contains a NUL byte [TIR006]"
    # A NUL in text handed over as a string (the language server's case) is an invalid character.
    assert first_error(MATMUL.replace("T.reads", "T.re\x00ads", 1)) == \
        "h.tir:14:21: error: invalid character U+0000 [TIR003]"


@pytest.mark.parametrize("bad, column", [(b"\xff", 19), (b"\xc3(", 19), (b"\xed\xa0\x80", 19)],
                         ids=["ff", "truncated", "surrogate"])
def test_invalid_utf8_is_tir006_at_its_place(bad: bytes, column: int) -> None:
    data = MATMUL.encode().replace(b"T.reads", b"T." + bad + b"reads", 1)
    diags = check_bytes(data, "h.tir")
    assert [(d.code, d.span.line, d.span.column) for d in diags] == [("TIR006", 14, column)]


def test_lone_surrogate_is_an_invalid_character() -> None:
    assert first_error(MATMUL.replace("T.reads", "T.\ud800reads", 1)) == \
        "h.tir:14:19: error: invalid character U+D800 [TIR003]"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_ends_give_the_same_ir(newline: str) -> None:
    lf = read_tir(MATMUL)
    other = read_tir(MATMUL.replace("\n", newline))
    assert other.diagnostics == []
    assert structural_diff(lf.module, other.module) is None
    # ...and errors are at the same line and column.
    broken = MATMUL.replace("T.reads(", "T.reads((", 1)
    assert [d.render() for d in read_tir(broken.replace("\n", newline)).diagnostics] == \
        [d.render() for d in read_tir(broken).diagnostics]


def test_tab_indentation_gives_the_same_ir() -> None:
    tabs = "\n".join(line.replace("    ", "\t") for line in MATMUL.split("\n"))
    assert "\t\t\t\t" in tabs
    result = read_tir(tabs)
    assert result.diagnostics == []
    assert structural_diff(read_tir(MATMUL).module, result.module) is None


def test_tabs_count_to_the_next_multiple_of_eight_as_in_python() -> None:
    lines = MATMUL.split("\n")
    lines[12] = "\t\t" + lines[12].lstrip()  # 16 columns: the block body's level, as spaces
    assert first_error("\n".join(lines)) is None
    lines[13] = "\t  " + lines[13].lstrip()  # 10 columns: no enclosing block is at 10
    assert first_error("\n".join(lines)) == \
        "h.tir:14:1: error: unindent does not match any outer indentation level [TIR002]"


def test_byte_order_mark_is_ignored_in_files(tmp_path: Path) -> None:
    path = tmp_path / "bom.tir"
    path.write_bytes(b"\xef\xbb\xbf" + MATMUL.encode())
    result = read_tir_file(path)
    assert result.diagnostics == []
    assert structural_diff(read_tir(MATMUL).module, result.module) is None
    assert check_bytes(path.read_bytes(), "bom.tir") == []


def test_huge_integer_literals_are_clear_errors() -> None:
    wide = HEAD + "    A[0] = T.Cast(\"float32\", " + "9" * 100 + ")\n"
    assert timed_first_error(wide) == "h.tir:5:30: error: integer literal " + "9" * 100 + \
        " does not fit in 64 bits [TIR019]"
    # More digits than Python's int() converts (4,300): the parser reports it.
    huge = HEAD + "    A[0] = T.Cast(\"float32\", " + "9" * 5000 + ")\n"
    assert timed_first_error(huge) == "h.tir:5:30: error: invalid number literal 99999999999999999999... [TIR001]"


# ---------------------------------------------------------------------------- the command lines
HOSTILE_FILES = {
    "nul.tir": MATMUL.replace("T.reads", "T.re\x00ads", 1).encode(),
    "deep.tir": (HEAD + "    A[0] = " + "T.exp(" * DEEP + "A[1]" + ")" * DEEP + "\n").encode(),
    "latin1.tir": MATMUL.replace("main", "m\xe4in").encode("latin-1"),
    "crlf.tir": MATMUL.replace("\n", "\r\n").encode(),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
@pytest.mark.parametrize("command", [["tir_lsp.compiler.cli", "print"], ["tir_lsp", "check", "--no-config"]],
                         ids=["tirc", "tir-lsp"])
def test_command_lines_report_without_a_traceback(tmp_path: Path, name: str, command: list[str]) -> None:
    path = tmp_path / name
    path.write_bytes(HOSTILE_FILES[name])
    # The checkout's own entry points, never a `tirc` that happens to be on PATH.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", *command, str(path)], capture_output=True, text=True,
                          timeout=120, check=False, cwd=tmp_path, env=env)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    if name == "crlf.tir":
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 1, proc.stderr
        report = proc.stderr if command[0] == "tir_lsp.compiler.cli" else proc.stdout
        assert f"{name}:" in report and "error:" in report
