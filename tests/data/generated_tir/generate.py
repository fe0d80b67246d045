"""The fused functions of the models in ``tests/generated_tir_cases.py`` as TIR text, one
module per model (``scratch_params=True``, as the executors fuse): the fixtures of
``tests/test_generated_tir.py``.

Run from the repository root (``.venv/bin/python tests/data/generated_tir/generate.py``) when
a change of the generated TIR is intended; it rewrites the ``*.tir`` files next to it. The
first version was written from main 9d1bfbc, whose operators still wrote TIR text that was
read back: the IR the operators now build printed to the same text. Since then the one
intended change: integer index arithmetic that does nothing (``i * 1``, ``i + 0``, ``24 // 5``)
is folded as it is built (``construct.arith``).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from generated_tir_cases import cases

from tir_lsp.compiler.frontend.fuse import fuse
from tir_lsp.compiler.frontend.onnx_import import import_onnx
from tir_lsp.compiler.ir import construct as ir
from tir_lsp.compiler.text.printer import print_module


def module_text(model: object) -> str:
    """The printed module of ``model``'s fused functions."""
    fused = fuse(import_onnx(model), "m", scratch_params=True)
    text: str = print_module(ir.ir_module([f.func for f in fused if f.func is not None]))
    return text


def main() -> None:
    for old in HERE.glob("*.tir"):
        old.unlink()
    for name, model in cases().items():
        (HERE / f"{name}.tir").write_text(module_text(model), encoding="utf-8")


if __name__ == "__main__":
    main()
