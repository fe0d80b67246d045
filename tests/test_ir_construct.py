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
