"""Syntax tree -> IR: resolves names through scopes, types expressions, records every
definition and use in a SymbolIndex, and reports problems as diagnostics.

Nothing in the text is evaluated or imported: this is a pure translation of the tree the
parser made (``tir_lsp.compiler.text.syntax``). It never raises on bad input; a statement that
cannot be built is dropped with a diagnostic and the rest of the function still builds.

Dialects: ``syntax.Module.dialect`` is ``"tir"`` (classic ``from tvm.script import tir``),
``"tirx"`` (TVM 0.25+) or None (treated as tirx). The one place they differ is a plain
assignment of a new name ``x = e``: classic TIR binds an immutable let var (Bind); tirx
allocates a mutable one-element local buffer (``AllocBuffer(scalar=True)``) unless ``e`` is
a handle, which is bound with Bind, exactly as TVM 0.27 parses it.

The builder is one class made of layers, one module per concern, each subclassing the one
before (see ``core``): literals, expressions, buffer access, calls, attributes, buffer
declarations, statements with a body (blocks), other statements, the function. What the rest
of the compiler uses is below.
"""

from tir_lsp.compiler.text.builder.core import MAX_NESTING, ModuleContext
from tir_lsp.compiler.text.builder.function import build_function, build_module_attrs

__all__ = ["MAX_NESTING", "ModuleContext", "build_function", "build_module_attrs"]
