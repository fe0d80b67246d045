"""Backends: the C renderer and the runtime header it includes."""

from tir_lsp.compiler.backend.c_codegen import emit_c
from tir_lsp.compiler.backend.runtime_header import HEADER_NAME, runtime_header

__all__ = ["HEADER_NAME", "emit_c", "runtime_header"]
