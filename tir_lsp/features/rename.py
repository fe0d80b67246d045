"""Rename a var or buffer within its function; refuses names that are not identifiers or that
collide with a name visible in the same function."""

from __future__ import annotations

import keyword

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.relax import RelaxVar
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.text.symbols import SymbolIndex
from tir_lsp.documents import Document
from tir_lsp.features.references import same_token_symbols

_RESERVED = {"T", "I", "tir", "tirx", "tvm"}


class RenameError(Exception):
    """A rename that cannot be done; the message is shown to the user."""


def prepare_rename(doc: Document, line: int, column: int) -> tuple[Span, str] | None:
    loc = doc.at(line, column)
    if loc is None or not isinstance(loc.symbol, (Var, Buffer, RelaxVar)):
        return None
    return loc.span, loc.symbol.name


def rename(doc: Document, line: int, column: int, new_name: str) -> list[Span]:
    """The spans to replace with ``new_name``; raises RenameError when it cannot be done."""
    loc = doc.at(line, column)
    if loc is None or not isinstance(loc.symbol, (Var, Buffer, RelaxVar)):
        raise RenameError("only variables and buffers can be renamed")
    if not new_name.isidentifier() or keyword.iskeyword(new_name) or new_name in _RESERVED:
        raise RenameError(f"'{new_name}' is not a valid identifier")
    old = loc.symbol.name
    if new_name == old:
        return []
    symbols = same_token_symbols(doc, loc)
    ids = {id(s) for s in symbols}
    # A name visible where the symbol is used (or used where the symbol would be visible)
    # would be captured or shadowed by the new name.
    if loc.chunk is not None and not isinstance(loc.symbol, RelaxVar):
        view = loc.chunk
        idx = view.result.index
        mine = [idx.definition_of(s) for s in symbols]
        my_spans = _own_spans(idx, symbols)
        for d in idx.definitions:
            if d.name != new_name or id(d.symbol) in ids:
                continue
            theirs = [d.span] + [r.span for r in idx.references_to(d.symbol)]
            if d.kind == "function" or any(idx.visible_at(d, sp.line, sp.column) for sp in my_spans) \
                    or any(idx.visible_at(m, sp.line, sp.column) for m in mine if m is not None for sp in theirs):
                kind = "buffer" if isinstance(d.symbol, Buffer) else "function" if d.kind == "function" else "variable"
                where = d.span.shifted(view.delta)
                raise RenameError(f"cannot rename '{old}' to '{new_name}': a {kind} named '{new_name}' is "
                                  f"already visible there (defined at line {where.line})")
    if isinstance(loc.symbol, RelaxVar) and loc.chunk is not None:
        # A Relax function is one scope: any other name it defines would be shadowed.
        for d in loc.chunk.result.index.definitions:
            if d.name == new_name and d.symbol is not loc.symbol:
                where = d.span.shifted(loc.chunk.delta)
                raise RenameError(f"cannot rename '{old}' to '{new_name}': '{new_name}' is already defined "
                                  f"in this function (line {where.line})")
    if doc.skeleton is not None and any(d.name == new_name for d in doc.skeleton.index.definitions):
        raise RenameError(f"cannot rename '{old}' to '{new_name}': the module defines a size variable '{new_name}'")
    spans: set[Span] = set()
    for s in symbols:
        found = doc.definition_of(s, loc.chunk)
        if found is not None:
            spans.add(found[1])
        spans.update(doc.references_to(s, loc.chunk))
    # Only spans that spell the old name (a buffer param's var may be used through the buffer).
    out = []
    for sp in spans:
        text = doc.lines[sp.line - 1] if 0 < sp.line <= len(doc.lines) else ""
        if sp.line == sp.end_line and text[sp.column - 1:sp.end_column - 1] == old:
            out.append(sp)
    return sorted(out, key=lambda s: (s.line, s.column))


def _own_spans(idx: SymbolIndex, symbols: list[object]) -> list[Span]:
    out = []
    for s in symbols:
        d = idx.definition_of(s)
        if d is not None:
            out.append(d.span)
        out.extend(r.span for r in idx.references_to(s))
    return out
