"""Find references: every use of the var, buffer or function under the cursor. A function is
also found where other open documents and the closed files of the workspace (its index) name
it in calls, by its name or its global symbol."""

from __future__ import annotations

from collections.abc import Callable

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.expr import Var
from tir_lsp.compiler.ir.function import PrimFunc
from tir_lsp.compiler.ir.relax import RelaxFunction
from tir_lsp.compiler.ir.span import Span
from tir_lsp.documents import Document, Located
from tir_lsp.workspace_index import WorkspaceIndex

Target = tuple[str, Span]


def same_token_symbols(doc: Document, loc: Located) -> list[object]:
    """The symbol under the cursor plus those defined by the same name token (a buffer
    parameter ``A: T.Buffer(...)`` defines both the handle var ``A`` and the buffer ``A``)."""
    found = doc.definition_of(loc.symbol, loc.chunk)
    symbols: list[object] = [loc.symbol]
    if found is None or loc.chunk is None:
        return symbols
    span = found[0].span
    for d in loc.chunk.result.index.definitions:
        if d.span == span and d.symbol is not loc.symbol and isinstance(d.symbol, (Var, Buffer)):
            symbols.append(d.symbol)
    return symbols


def _function_references(name: str, names: set[str], docs: dict[str, Document], index: WorkspaceIndex | None,
                         path_to_uri: Callable[[str], str] | None, include_declaration: bool) -> list[Target]:
    """The definitions of the function ``name`` and the calls naming it (by any of ``names``)
    in the open documents, then in the closed files of the workspace."""
    out: list[Target] = []
    closed = index is not None and path_to_uri is not None
    defined = index.functions_named(name) if index is not None else []
    for s in defined:  # the closed file's function may be called by its other name too
        names |= {s.name} | ({s.global_symbol} if s.global_symbol else set())
    open_paths = set()
    for uri, other in docs.items():
        open_paths.add(other.filename)
        if include_declaration:
            hit = other.function_named(name)
            if hit is not None:
                out.append((uri, hit[1]))
        for n in names:
            out.extend((uri, sp) for sp in other.references_to(n))
    if closed:
        assert index is not None and path_to_uri is not None
        if include_declaration:
            out.extend((path_to_uri(s.path), s.span) for s in defined if s.path not in open_paths)
        out.extend((path_to_uri(s.path), s.span) for s in index.calls_to(names) if s.path not in open_paths)
    return out


def references(doc: Document, line: int, column: int, docs: dict[str, Document],
               include_declaration: bool = True, index: WorkspaceIndex | None = None,
               path_to_uri: Callable[[str], str] | None = None) -> list[Target]:
    loc = doc.at(line, column)
    if loc is None:
        return []
    sym = loc.symbol
    out: list[Target] = []
    if isinstance(sym, (PrimFunc, RelaxFunction, str)):
        name = sym if isinstance(sym, str) else sym.name
        names = {sym} if isinstance(sym, str) else {sym.name, sym.global_symbol}
        out = _function_references(name, names, docs, index, path_to_uri, include_declaration)
    else:
        for s in same_token_symbols(doc, loc):
            if include_declaration:
                found = doc.definition_of(s, loc.chunk)
                if found is not None:
                    out.append((doc.uri, found[1]))
            out.extend((doc.uri, sp) for sp in doc.references_to(s, loc.chunk))
    seen: set[tuple[str, Span]] = set()
    unique = []
    for t in out:
        if t not in seen:
            seen.add(t)
            unique.append(t)
    unique.sort(key=lambda t: (t[0], t[1].line, t[1].column))
    return unique
