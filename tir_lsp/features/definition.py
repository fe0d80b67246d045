"""Go to definition: vars, buffers and functions, including functions named by string in
``T.call_extern("int32", "f", ...)`` / ``T.call_packed("f", ...)``, across workspace files."""

from __future__ import annotations

from tir_lsp.compiler.ir.span import Span
from tir_lsp.documents import Document
from tir_lsp.workspace_index import WorkspaceIndex

Target = tuple[str, Span]  # (uri, span)


def function_in_workspace(name: str, uri: str, docs: dict[str, Document], index: WorkspaceIndex | None,
                          path_to_uri: object) -> list[Target]:
    """Where function ``name`` is defined in the other open documents or the workspace files."""
    out: list[Target] = []
    open_paths = set()
    for other_uri, other in docs.items():
        open_paths.add(other.filename)
        if other_uri == uri:
            continue
        hit = other.function_named(name)
        if hit is not None:
            out.append((other_uri, hit[1]))
    if index is not None and callable(path_to_uri):
        for s in index.functions_named(name):
            if s.path not in open_paths:
                out.append((path_to_uri(s.path), s.span))
    return out


def definition(doc: Document, line: int, column: int, docs: dict[str, Document],
               index: WorkspaceIndex | None = None, path_to_uri: object = None) -> list[Target]:
    loc = doc.at(line, column)
    if loc is None:
        return []
    if isinstance(loc.symbol, str):
        return function_in_workspace(loc.symbol, doc.uri, docs, index, path_to_uri)
    found = doc.definition_of(loc.symbol, loc.chunk)
    if found is None:
        return []
    return [(doc.uri, found[1])]
