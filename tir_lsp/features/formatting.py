"""Formatting through the compiler's printer (``print_module``): the whole document becomes
TVM's canonical text. Refused while the file has errors, since a statement the builder had
to drop would vanish from the output."""

from __future__ import annotations

from compiler.diagnostics import ERROR
from compiler.text.printer import print_module
from tir_lsp.documents import Document


class FormatError(Exception):
    """Formatting is not possible; the message says why."""


def format_document(doc: Document) -> str | None:
    """The formatted text, or None when it is already formatted."""
    errors = [d for d in doc.diagnostics if d.severity == ERROR]
    if errors:
        first = errors[0]
        raise FormatError(f"cannot format a file with errors ({len(errors)}; first: line {first.span.line}: "
                          f"{first.message} [{first.code}])")
    if not doc.module.functions:
        raise FormatError("nothing to format: the file defines no function")
    text = print_module(doc.module)
    current = "\n".join(doc.lines) + "\n"
    return None if text == current else text
