"""Document symbols (module > functions > buffers and loops, nested by where they sit) and
workspace symbols (functions and buffers of open documents and workspace files)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tir_lsp.compiler.ir.buffer import Buffer
from tir_lsp.compiler.ir.span import Span
from tir_lsp.compiler.ir.stmt import For
from tir_lsp.documents import Document
from tir_lsp.workspace_index import WorkspaceIndex


@dataclass
class Sym:
    """A document symbol: ``kind`` is ``module``, ``function``, ``buffer`` or ``loop``."""

    name: str
    kind: str
    range: Span
    selection: Span
    detail: str = ""
    children: list[Sym] = field(default_factory=list)


def _insert(parents: list[Sym], s: Sym) -> None:
    for p in parents:
        # Loops of one `T.grid` share their range: each nests in the one listed before it.
        if p.kind != "buffer" and _inside(s.range, p.range) and (p.range != s.range or p.kind == s.kind == "loop"):
            _insert(p.children, s)
            return
    parents.append(s)


def _inside(a: Span, b: Span) -> bool:
    return (b.line, b.column) <= (a.line, a.column) and (a.end_line, a.end_column) <= (b.end_line, b.end_column)


def document_symbols(doc: Document) -> list[Sym]:
    funcs: list[Sym] = []
    for v in doc.chunks:
        end_line = v.end
        last = doc.lines[end_line - 1] if 0 < end_line <= len(doc.lines) else ""
        for name, span in v.result.names:
            sel = span.shifted(v.delta)
            f = Sym(name, "function", Span(v.start + 1, 1, end_line, len(last) + 1), sel)
            items: list[Sym] = []
            for d in v.result.index.definitions:
                dspan = d.span.shifted(v.delta)
                if isinstance(d.symbol, Buffer):
                    items.append(Sym(d.name, "buffer", dspan, dspan, f'{d.symbol.dtype} {d.kind}'))
                elif d.kind == "loop" and isinstance(d.node, For) and d.node.span is not None:
                    rng = d.node.span.shifted(v.delta)
                    items.append(Sym(d.name, "loop", rng.merge(dspan), dspan, d.node.kind))
            items.sort(key=lambda s: (s.range.line, s.range.column, -s.range.end_line))
            for it in items:
                _insert(f.children, it)
            funcs.append(f)
    if doc.module.standalone or not doc.chunks:
        return funcs
    last = doc.lines[-1] if doc.lines else ""
    full = Span(1, 1, max(len(doc.lines), 1), len(last) + 1)
    sel = doc.module.name_span or full
    return [Sym(doc.module.name, "module", full, sel, "", funcs)]


@dataclass(frozen=True)
class WorkspaceSym:
    name: str
    kind: str
    uri: str
    span: Span
    container: str | None


def workspace_symbols(query: str, docs: dict[str, Document], index: WorkspaceIndex | None,
                      path_to_uri: object, limit: int = 500) -> list[WorkspaceSym]:
    q = query.lower()
    out: list[WorkspaceSym] = []
    open_paths = set()
    for uri, doc in docs.items():
        open_paths.add(doc.filename)
        for name, span, _f in doc.function_names():
            if q in name.lower():
                out.append(WorkspaceSym(name, "function", uri, span, None))
        for d, span, _v in doc.definitions():
            if isinstance(d.symbol, Buffer) and q in d.name.lower():
                out.append(WorkspaceSym(d.name, "buffer", uri, span, d.function))
    if index is not None and callable(path_to_uri):
        for s in index.symbols():
            if s.path in open_paths or s.kind not in ("function", "buffer"):
                continue
            if q in s.name.lower():
                out.append(WorkspaceSym(s.name, s.kind, path_to_uri(s.path), s.span, s.container))
    out.sort(key=lambda s: (not s.name.lower().startswith(q), s.name, s.uri, s.span.line))
    return out[:limit]
