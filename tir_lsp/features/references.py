"""Find references: every use of the var, buffer or function under the cursor. Functions are
also found where other open documents name them in calls."""

from __future__ import annotations

from compiler.ir.buffer import Buffer
from compiler.ir.expr import Var
from compiler.ir.function import PrimFunc
from compiler.ir.relax import RelaxFunction
from compiler.ir.span import Span
from tir_lsp.documents import Document, Located

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


def references(doc: Document, line: int, column: int, docs: dict[str, Document],
               include_declaration: bool = True) -> list[Target]:
    loc = doc.at(line, column)
    if loc is None:
        return []
    sym = loc.symbol
    out: list[Target] = []
    if isinstance(sym, (PrimFunc, RelaxFunction, str)):
        name = sym if isinstance(sym, str) else sym.name
        for uri, other in docs.items():
            if include_declaration:
                hit = other.function_named(name)
                if hit is not None:
                    out.append((uri, hit[1]))
            out.extend((uri, sp) for sp in other.references_to(name))
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
