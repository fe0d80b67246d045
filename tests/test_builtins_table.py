"""The builtin table (ir/builtins.py) is the one definition of every ``T.*`` builtin: the
layers that handle builtins read it and agree with it, and one new entry is a new builtin."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path

import pytest

from tir_lsp.compiler.backend import c_codegen, emit_c
from tir_lsp.compiler.diagnostics import CompilerError
from tir_lsp.compiler.ir.builtins import (
    ARG0,
    BINOP_SPELLING,
    BUILTINS,
    OPERATOR_BUILTINS,
    Build,
    BuiltinInfo,
    CHook,
    CTemplate,
    Libm,
    LowerHook,
    TypeArg,
    builtin,
    register,
    unregister,
)
from tir_lsp.compiler.ir.dtype import FLOAT32, parse_dtype
from tir_lsp.compiler.ir.expr import BinOp, Call, Expr
from tir_lsp.compiler.ir.node import Node
from tir_lsp.compiler.ir.visitor import IRMutator, walk
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir
from tir_lsp.compiler.transform import PipelineOptions, lower_intrin, run_pipeline

COMPILER = Path(__file__).resolve().parents[1] / "tir_lsp" / "compiler"
# The modules that used to keep their own lists of builtin names.
READERS = ("backend/c_codegen.py", "transform/lower_intrin.py", "transform/vectorize_loop.py", "text/printer.py")
_OP_TEST = re.compile(r"\.op\s*(?:==|!=)\s*\"(\w+)\"|\.op\s+(?:not\s+)?in\s+\(([^)]*)\)")


def _placeholders(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f is not None}


def _entries() -> Iterator[BuiltinInfo]:
    return iter(BUILTINS.values())


def _nodes(node: Node) -> list[Node]:
    out: list[Node] = []
    walk(node, out.append)
    return out


def test_every_builtin_name_the_readers_test_has_an_entry() -> None:
    names: set[str] = set()
    for rel in READERS:
        for m in _OP_TEST.finditer((COMPILER / rel).read_text()):
            names.update([m.group(1)] if m.group(1) else re.findall(r"\"(\w+)\"", m.group(2)))
    assert names, "the pattern found no tests of Call.op: update it"
    # BinOp.op is tested the same way (``extent.op == "sub"``): those are no builtins.
    assert sorted(n for n in names - set(BINOP_SPELLING) if n not in BUILTINS) == []


def test_every_hook_named_by_an_entry_exists_and_every_hook_is_named() -> None:
    c_named = {b.c.name for b in _entries() if isinstance(b.c, CHook)}
    assert c_named == set(c_codegen._C_HOOKS)
    lower_named = {b.lower.name for b in _entries() if isinstance(b.lower, LowerHook)}
    assert lower_named == set(lower_intrin.HOOKS)


@pytest.mark.parametrize("info", list(_entries()), ids=lambda b: b.name)
def test_each_entry_agrees_with_itself(info: BuiltinInfo) -> None:
    lo, hi = info.min_args, info.max_args
    assert hi is None or lo <= hi
    assert info.signature.startswith(f"T.{info.name}(")
    if isinstance(info.result, TypeArg):
        # The dtype argument is there in every call, and is not an IR argument.
        assert info.result.index < lo and info.ir_min_args == lo - 1
    for form in (info.c, info.c_stmt):
        if isinstance(form, CTemplate):
            fields = _placeholders(form.text)
            if "args" not in fields:
                # One placeholder per IR argument: the arity the C backend checks.
                assert hi is not None and fields == {str(i) for i in range(info.ir_min_args)}
                assert info.ir_min_args == info.ir_max_args
    if info.print_stmt is not None:
        assert lo == hi and _placeholders(info.print_stmt) == {str(i) for i in range(lo)}
    if info.operator is not None:
        assert lo == hi and lo in (1, 2) and OPERATOR_BUILTINS[(info.operator, lo)] == info.name
        assert isinstance(info.c, CTemplate) and info.operator in info.c.text
    if info.build is Build.BINOP:
        assert info.binop is not None and lo == hi == 2
    else:
        assert info.binop is None
    if info.lower is not None:
        # A libm function (or rewrite) takes the builtin's fixed arguments.
        assert lo == hi and info.kind == "expr"
    if info.c is not None or info.lower is not None or info.lanewise:
        assert info.kind == "expr"


def test_binop_builtins_build_the_binop_the_printer_spells_back() -> None:
    for name, info in BUILTINS.items():
        if info.build is not Build.BINOP:
            continue
        mod = read_tir(f"@T.prim_func\ndef f(a: T.int32, b: T.int32, C: T.Buffer((1,), \"bool\")):\n"
                       f"    C[0] = T.Cast(\"bool\", T.{name}(a, b))\n").module
        (node,) = [n for n in _nodes(mod.functions[0].body) if isinstance(n, BinOp)]
        assert node.op == info.binop


def test_c_backend_checks_the_ir_arity_from_the_table() -> None:
    # JSON IR is not checked as text is: the C backend checks the count the table gives.
    info = BUILTINS["if_then_else"]
    mod = read_tir("@T.prim_func\ndef f(a: T.int32, C: T.Buffer((1,), \"int32\")):\n"
                   "    C[0] = T.if_then_else(a < 1, a, 2)\n").module
    f = mod.functions[0]
    mod = mod.with_function(f.with_(body=_DropLastArg().visit(f.body)))
    message = f"T.if_then_else takes {info.arity_text(ir=True)} argument(s) in lowered IR, got 2"
    assert message == "T.if_then_else takes 3 argument(s) in lowered IR, got 2"
    with pytest.raises(CompilerError, match=re.escape(message)):
        emit_c(run_pipeline(mod, PipelineOptions(unpacked_api=True)))


class _DropLastArg(IRMutator):
    def visit_Call(self, node: Call) -> Expr:
        node = self.generic_mutate(node)
        return node.with_(args=node.args[:-1]) if node.op == "if_then_else" else node


# ---------------------------------------------------------------- a new builtin is one entry
NEW_ENTRIES = (
    builtin("test_fma", 3, 3, ARG0, "a, b, c", "a * b + c (an entry registered by a test).",
            c=CTemplate("(({0}) * ({1}) + ({2}))"), lanewise=True),
    builtin("test_bits", 2, 2, TypeArg(0), "dtype, value", "value's bits as dtype (a test entry).",
            c=CTemplate("tir_test_bits({0})")),
    builtin("test_cbrt", 1, 1, ARG0, "x", "Cube root (a test entry lowered to libm).", lower=Libm("cbrt")),
)

NEW_TEXT = """# from tvm.script import ir as I
# from tvm.script import tirx as T

@I.ir_module
class Module:
    @T.prim_func
    def f(A: T.Buffer((8,), "float32"), B: T.Buffer((8,), "float32"), C: T.Buffer((8,), "uint32")):
        for i in range(8):
            B[i] = T.test_fma(A[i], A[i], T.test_cbrt(A[i]))
            C[i] = T.test_bits("uint32", A[i])
"""


@pytest.fixture
def new_entries() -> Iterator[None]:
    for info in NEW_ENTRIES:
        register(info)
    try:
        yield
    finally:
        for info in NEW_ENTRIES:
            unregister(info.name)


def test_one_new_entry_parses_types_prints_and_emits_c(new_entries: None) -> None:
    result = read_tir(NEW_TEXT)
    assert result.diagnostics == []
    calls = {n.op: n for n in _nodes(result.module.functions[0].body) if isinstance(n, Call)}
    assert calls["test_fma"].dtype == FLOAT32 and calls["test_cbrt"].dtype == FLOAT32
    # The dtype argument became the call's type, and is no IR argument.
    assert calls["test_bits"].dtype == parse_dtype("uint32") and len(calls["test_bits"].args) == 1
    assert print_module(result.module) == NEW_TEXT
    source = emit_c(run_pipeline(result.module, PipelineOptions(unpacked_api=True)))
    assert re.search(r"\(\(\w+\[i\]\) \* \(\w+\[i\]\) \+ \(cbrtf\(\w+\[i\]\)\)\)", source), source
    assert re.search(r"tir_test_bits\(\w+\[i\]\)", source), source


def test_unregistered_entry_is_unknown_again() -> None:
    result = read_tir(NEW_TEXT)
    assert [d.code for d in result.diagnostics][:1] == ["TIR004"]
