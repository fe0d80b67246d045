"""Backends: the C renderer and the runtime header it includes."""

from compiler.backend.c_codegen import emit_c
from compiler.backend.runtime_header import HEADER_NAME, runtime_header

__all__ = ["HEADER_NAME", "emit_c", "runtime_header"]
