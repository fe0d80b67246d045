"""ir.construct builds TIR as IR, no text in between: what it builds prints to text that reads
back to the same tree, with the dtypes the text rules give. (The AOT main built with it is
compiled and run against onnxruntime in test_aot.py.)"""

from __future__ import annotations

import numpy as np

from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.structural import structural_equal
from tir_lsp.compiler.text.printer import print_module
from tir_lsp.compiler.text.reader import read_tir


def scaled_relu() -> PrimFunc:
    # y[i] = max(x[i] * w[i % 4], 0) with w constant data (T.allocate_const from numpy).
    x, y = ir.buffer("x", (16,)), ir.buffer("y", (16,))
    wp = ir.pointer_var("w", "float32")
    w = ir.buffer("w", (4,), data=wp)
    i = ir.var("i")
    body = ir.for_(i, 16, ir.store(y, ir.max_(ir.mul(ir.load(x, i), ir.load(w, ir.binop("floormod", i, 4))), 0.0), i))
    alloc = ir.allocate_const(wp, np.array([0.5, 1.0, -2.0, 3.0], dtype=np.float32), body)
    return ir.prim_func("scaled_relu", [x, y], alloc, {"global_symbol": "scaled_relu", "tir.noalias": True})


def test_built_ir_reads_back_from_its_text() -> None:
    mod = ir.ir_module([scaled_relu()])
    text = print_module(mod)
    assert "T.allocate_const([0.5, 1.0, -2.0, 3.0]" in text
    back = read_tir(text, "<built>")
    assert [d for d in back.diagnostics if d.severity == "error"] == [], text
    assert structural_equal(mod.functions[0], back.module.functions[0])


def test_constants_and_types_follow_the_text_rules() -> None:
    assert str(ir.const(3).dtype) == "int32" and str(ir.const(3.0).dtype) == "float32"
    assert str(ir.const(0, "uint64").dtype) == "uint64"
    assert str(ir.ne(ir.const(1), 0).dtype) == "bool"
    assert str(ir.add(ir.const(1.0), 2.0).dtype) == "float32"
    b = ir.buffer("b", (2, 3), "uint8")
    assert str(b.data.type_annotation) == 'T.handle("uint8", "global")'
    assert str(ir.load(b, 0, 1).dtype) == "uint8"


def _read_store_value(params: str, expr: str, out: str = "float32") -> object:
    """The IR the reader builds for ``y[0] = <expr>`` in a function of ``params``."""
    text = (f"# from tvm.script import tirx as T\n\n@T.prim_func\ndef f({params}, y: T.Buffer((1,), \"{out}\")):\n"
            f"    y[0] = {expr}\n")
    result = read_tir(text, "<expr>")
    assert [d for d in result.diagnostics if d.severity == "error"] == [], result.diagnostics
    body = result.module.functions[0].body
    return body.value  # type: ignore[attr-defined]


def test_values_build_what_the_reader_builds_from_the_same_text() -> None:
    # Each case: the text of y[0]'s value and the same expression written with Value.
    a, b = ir.buffer("a", (4,), "int64"), ir.buffer("b", (4,), "float16")
    c = ir.buffer("c", (4,), "bool")
    la, lb, lc = ir.Value(ir.load(a, 1)), ir.Value(ir.load(b, 2)), ir.Value(ir.load(c, 0))
    params = 'a: T.Buffer((4,), "int64"), b: T.Buffer((4,), "float16"), c: T.Buffer((4,), "bool")'
    cases = [
        # A bare number takes the other side's dtype (int64 here), on either side.
        ("a[1] * 2 + 1", la * 2 + 1, "int64"),
        ("1 - a[1] // 3 % 5", 1 - la // 3 % 5, "int64"),
        # A comparison with a number on the left stays as written.
        ("T.if_then_else(0 <= a[1] and a[1] < 4, b[2], T.float16(0.0))",
         ir.if_then_else(ir.logical_and(ir.le(0, la), la < 4), lb, ir.Value(ir.const(0.0, "float16"))), "float16"),
        # Operands of two dtypes meet in the wider one: int64 to float16 by a cast.
        ("T.max(b[2], a[1])", ir.max_of(lb, la), "float16"),
        ("T.exp(b[2]) / T.Cast(\"float16\", a[1])", ir.builtin("exp", lb) / ir.Value(ir.cast("float16", la)), "float16"),
        ("T.truncdiv(a[1], T.int64(3))", ir.builtin("truncdiv", la, ir.Value(ir.const(3, "int64"))), "int64"),
        ("T.Not(c[0])", ir.builtin("Not", lc), "bool"),
        ("T.pow(b[2], 2)", ir.builtin("pow", lb, 2), "float16"),
        # The stored value is cast to the buffer's dtype.
        ("a[1] + 1", la + 1, "float32"),
    ]
    for text, built, out in cases:
        y = ir.buffer("y", (1,), out)
        read = _read_store_value(params, text, out)
        assert structural_equal(ir.store(y, built, 0).value, read, map_free_vars=True), text


def test_a_stage_of_blocks_reads_back_from_its_text() -> None:
    from tir_lsp.compiler.frontend.operators.base import StageWriter, at, f32

    x, out = ir.buffer("x", (2, 3)), ir.buffer("s", (2,))
    w = StageWriter()
    acc = w.alloc("acc", (2,))
    w.stage("acc", [2, 3], "SR", lambda v: at(acc, [v[0]]) + at(x, v), lambda v: at(acc, [v[0]]), init=f32(0.0))
    w.stage("s", [2], "S", lambda v: at(acc, v) * 2.0, lambda v: at(out, v))
    f = ir.prim_func("f", [x, out], ir.root_block(w.body(), w.allocs), s_tir=True)
    text = print_module(ir.ir_module([f]))
    assert 'with T.sblock("acc"):' in text and "with T.init():" in text
    back = read_tir(text, "<stage>")
    assert back.diagnostics == []
    assert structural_equal(f, back.module.functions[0])


def test_index_arithmetic_that_does_nothing_builds_no_node() -> None:
    from tir_lsp.compiler.ir.expr import BinOp, IntImm

    i = ir.Value(ir.var("i"))
    for e in (i * 1, 1 * i, i + 0, 0 + i, i - 0, i // 1):
        assert e.node is i.node
    assert isinstance((i * 2).node, BinOp) and isinstance((0 - i).node, BinOp)  # 0 - i is -i
    # two constants fold with floor semantics (T.floordiv / T.floormod), as Python's // and %
    seven = ir.Value(ir.const(-7))
    for e, want in ((seven // 2, -4), (seven % 2, 1)):
        assert isinstance(e.node, IntImm) and (e.node.value, str(e.node.dtype)) == (want, "int32")
    # ... but not past the dtype's range, nor a division by zero, nor floats (-0.0 + 0 is 0.0)
    big = ir.Value(ir.const(2**30))
    assert isinstance((big * 4).node, BinOp)
    assert isinstance((seven // 0).node, BinOp)
    x = ir.Value(ir.var("x", "float32"))
    assert isinstance((x + 0).node, BinOp) and isinstance((x * 1).node, BinOp)
