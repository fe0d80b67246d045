"""The operator library: one module per operator family; ``OPERATORS`` maps ONNX op names."""

from __future__ import annotations

from tir_lsp.compiler.frontend.operators import arg_reduce, elementwise, nn, transform
from tir_lsp.compiler.frontend.operators.base import COMPLEX, ELEMENTWISE, INJECTIVE, OpDef, OpError

OPERATORS: dict[str, OpDef] = {}
for _module in (elementwise, nn, transform, arg_reduce):
    for _op in _module.OPS:
        OPERATORS[_op.onnx_name] = _op

__all__ = ["COMPLEX", "ELEMENTWISE", "INJECTIVE", "OPERATORS", "OpDef", "OpError"]
