"""The def-use index: where each var, buffer and function is defined, every place its name
is used, and the scopes names live in, built while the builder resolves names.

The language server answers hover, definition, references, rename and completion from this
index only; ``Scope`` is the one model of where a name is visible.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from tir_lsp.compiler.ir.span import Span

# How a name was defined (``Definition.kind``); the builders' ``define`` calls spell them, so
# mypy checks every one against this list.
DefinitionKind = Literal[
    "param", "buffer_param", "loop", "let", "block_iter", "thread", "alloc_buffer", "sblock_alloc_buffer",
    "decl_buffer", "match_buffer", "view", "buffer", "allocate", "allocate_const", "scalar", "function",
    "type_param", "size_var", "lambda_param",
]


@dataclass(slots=True)
class Definition:
    """One defined name.

    ``symbol`` is the IR object itself (Var, Buffer, PrimFunc); ``span`` the name token at the
    definition site; ``kind`` says how it was defined.
    """

    symbol: object
    name: str
    span: Span
    kind: DefinitionKind
    node: object | None = None
    function: str | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """One scope of the builder: names bound in it are visible in ``region``.

    ``header`` is the part of the statement before its body (``for i in ...:``,
    ``with ... as x:``): the names it binds belong to this scope though they stand outside the
    region. ``indent`` is the 1-based column of the body's statements: a line being typed after
    the body, indented at least that far, still continues it.
    """

    region: Span
    header: Span | None = None
    indent: int = 1

    def shifted(self, lines: int) -> Scope:
        return Scope(self.region.shifted(lines), self.header.shifted(lines) if self.header else None, self.indent)


@dataclass(slots=True)
class Reference:
    """A use of ``symbol``'s name at ``span``."""

    span: Span
    symbol: object


def _start(span: Span) -> tuple[int, int]:
    return (span.line, span.column)


def _size(span: Span) -> tuple[int, int]:
    return (span.end_line - span.line, span.end_column - span.column if span.end_line == span.line else 10**6)


@dataclass(slots=True)
class SymbolIndex:
    definitions: list[Definition] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    # Function names written as strings in calls (``T.call_extern("int32", "f", ...)``), with
    # the span of the string literal; ``link_functions`` turns them into references.
    call_names: list[tuple[str, Span]] = field(default_factory=list)
    # The scopes of the functions (module-level names, functions and size vars, have none).
    scopes: list[Scope] = field(default_factory=list)
    _by_symbol: dict[int, Definition] | None = field(default=None, repr=False)
    _refs_by_symbol: dict[int, list[Reference]] | None = field(default=None, repr=False)
    _sorted: list[tuple[tuple[int, int], Definition | Reference]] | None = field(default=None, repr=False)
    _starts: list[tuple[int, int]] | None = field(default=None, repr=False)
    _max_lines: int = field(default=0, repr=False)
    _scope_of: dict[int, Scope | None] | None = field(default=None, repr=False)

    # -------------------------------------------------------------- building
    def define(self, d: Definition) -> None:
        self.definitions.append(d)
        self._invalidate()

    def refer(self, span: Span, symbol: object) -> None:
        self.references.append(Reference(span, symbol))
        self._invalidate()

    def _invalidate(self) -> None:
        self._by_symbol = None
        self._refs_by_symbol = None
        self._sorted = None
        self._starts = None
        self._scope_of = None

    # -------------------------------------------------------------- queries
    def definition_of(self, symbol: object) -> Definition | None:
        """The definition of ``symbol`` (the first, if a symbol was defined twice)."""
        if self._by_symbol is None:
            self._by_symbol = {}
            for d in self.definitions:
                self._by_symbol.setdefault(id(d.symbol), d)
        return self._by_symbol.get(id(symbol))

    def references_to(self, symbol: object) -> list[Reference]:
        """Every use of ``symbol``'s name, in source order."""
        if self._refs_by_symbol is None:
            self._refs_by_symbol = {}
            for r in sorted(self.references, key=lambda r: _start(r.span)):
                self._refs_by_symbol.setdefault(id(r.symbol), []).append(r)
        return list(self._refs_by_symbol.get(id(symbol), []))

    def at(self, line: int, column: int) -> Definition | Reference | None:
        """The innermost definition or reference whose span contains the 1-based position."""
        if self._sorted is None:
            entries: list[tuple[tuple[int, int], Definition | Reference]] = [
                (_start(d.span), d) for d in self.definitions
            ]
            entries += [(_start(r.span), r) for r in self.references]
            entries.sort(key=lambda e: e[0])
            self._sorted = entries
            self._starts = [e[0] for e in entries]
            self._max_lines = max((e[1].span.end_line - e[1].span.line for e in entries), default=0)
        assert self._starts is not None
        hi = bisect.bisect_right(self._starts, (line, column))
        best: Definition | Reference | None = None
        # Names are short and rarely span lines, so only entries starting on the lines just
        # above can contain the position; walk back until past them.
        i = hi - 1
        while i >= 0:
            start, entry = self._sorted[i]
            if start[0] < line - self._max_lines:
                break
            if entry.span.contains(line, column) and (best is None or _size(entry.span) < _size(best.span)):
                best = entry
            i -= 1
        return best

    # -------------------------------------------------------------- combining
    def shifted(self, lines: int) -> SymbolIndex:
        """A copy with every span moved down by ``lines`` lines (same symbols)."""
        return SymbolIndex(
            [Definition(d.symbol, d.name, d.span.shifted(lines), d.kind, d.node, d.function) for d in self.definitions],
            [Reference(r.span.shifted(lines), r.symbol) for r in self.references],
            [(n, sp.shifted(lines)) for n, sp in self.call_names],
            [s.shifted(lines) for s in self.scopes],
        )

    def merge(self, other: SymbolIndex) -> SymbolIndex:
        """A new index holding the entries of both."""
        return SymbolIndex(self.definitions + other.definitions, self.references + other.references,
                           self.call_names + other.call_names, self.scopes + other.scopes)

    def without_lines(self, first: int, last: int) -> SymbolIndex:
        """A copy without the entries starting in lines ``first..last`` (to splice a rebuilt function)."""
        return SymbolIndex(
            [d for d in self.definitions if not first <= d.span.line <= last],
            [r for r in self.references if not first <= r.span.line <= last],
            [(n, sp) for n, sp in self.call_names if not first <= sp.line <= last],
            [s for s in self.scopes if not first <= s.region.line <= last],
        )

    def link_functions(self, functions: Iterable[Any]) -> None:
        """Add a Reference for each recorded call name that names one of ``functions``
        (by its name or its ``global_symbol``)."""
        by_name: dict[str, Any] = {}
        for f in functions:
            by_name.setdefault(f.name, f)
            by_name.setdefault(f.global_symbol, f)
        have = {(id(r.symbol), r.span) for r in self.references}
        for name, span in self.call_names:
            f = by_name.get(name)
            if f is not None and (id(f), span) not in have:
                self.references.append(Reference(span, f))
        self._invalidate()

    def symbols_named(self, name: str) -> list[Definition]:
        return [d for d in self.definitions if d.name == name]

    # -------------------------------------------------------------- scopes
    def scope_of(self, d: Definition) -> Scope | None:
        """The scope ``d`` is bound in; None for module-level names: functions and size vars
        (a size var is declared for the whole function, even where it is first written)."""
        if self._scope_of is None:
            self._scope_of = self._bind_scopes()
        return self._scope_of.get(id(d))

    def _bind_scopes(self) -> dict[int, Scope | None]:
        """Each definition's scope, in one sweep in source order: regions nest, so the open
        regions form a stack whose top is the innermost around a position; headers do not
        nest, so the last one starting before a name is the only one that can hold it."""
        out: dict[int, Scope | None] = {}
        headers = sorted(((s.header, s) for s in self.scopes if s.header is not None), key=lambda h: _start(h[0]))
        header_starts = [_start(h) for h, _s in headers]
        regions = sorted(self.scopes, key=lambda s: (_start(s.region), (-s.region.end_line, -s.region.end_column)))
        open_: list[Scope] = []
        k = 0
        for d in sorted(self.definitions, key=lambda d: _start(d.span)):
            if d.kind in ("function", "size_var"):
                out[id(d)] = None
                continue
            i = bisect.bisect_right(header_starts, _start(d.span)) - 1
            if i >= 0 and _inside(d.span, headers[i][0]):
                out[id(d)] = headers[i][1]
                continue
            while k < len(regions) and _start(regions[k].region) <= _start(d.span):
                open_.append(regions[k])
                k += 1
            while open_ and not _inside(d.span, open_[-1].region):
                open_.pop()
            out[id(d)] = open_[-1] if open_ else None
        return out

    def visible_at(self, d: Definition, line: int, column: int, typing: tuple[int, int] | None = None) -> bool:
        """Whether ``d``'s name is in scope at the 1-based position: inside the region of its
        scope and, unless its scope's header bound it, after it.

        ``typing = (after, indent)`` says the position is on a line being typed, with only
        blank lines since line ``after`` and indented to column ``indent``: a scope whose
        region ends on ``after`` or later and whose body is indented at most ``indent``
        holds it (its text has not been parsed into the scope yet).
        """
        s = self.scope_of(d)
        if s is None:
            return True
        if (s.header is None or not _inside(d.span, s.header)) and (line, column) <= (d.span.line, d.span.column):
            return False
        if s.region.contains(line, column):
            return True
        if typing is None or (line, column) < (s.region.line, s.region.column):
            return False
        after, indent = typing
        return s.region.end_line >= after and indent >= s.indent

    def visible(self, line: int, column: int, typing: tuple[int, int] | None = None) -> list[Definition]:
        """The definitions in scope at the position, one per name (an inner one hides an outer
        one), in the order their names were first defined."""
        out: dict[str, Definition] = {}
        for d in self.definitions:
            if self.visible_at(d, line, column, typing):
                prev = out.get(d.name)
                if prev is None or _encloses(self.scope_of(prev), self.scope_of(d)):
                    out[d.name] = d
        return list(out.values())

    def shadowed_by(self, d: Definition) -> Definition | None:
        """The definition of the same name that ``d`` hides where it is bound, if any."""
        best: Definition | None = None
        for other in self.definitions:
            if other is not d and other.name == d.name and other.kind != "function" \
                    and self.visible_at(other, d.span.line, d.span.column):
                best = other
        return best


def _inside(a: Span, b: Span) -> bool:
    return (b.line, b.column) <= (a.line, a.column) and (a.end_line, a.end_column) <= (b.end_line, b.end_column)


def _encloses(outer: Scope | None, inner: Scope | None) -> bool:
    """Whether ``inner`` lies within ``outer`` (None: the module, which encloses everything)."""
    if outer is None:
        return True
    return inner is not None and _inside(inner.region, outer.region)
